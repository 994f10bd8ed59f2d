// ctest-links: juleseg_base
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/jobs/JobQueue.h"

using namespace jseg;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(jseg::JobState)

class TestJobQueue : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void runsJobsAndReportsEvents() {
    JobQueue q(1);
    std::mutex m;
    std::vector<JobEvent::Kind> kinds;
    q.subscribe([&](const JobEvent& e) {
      std::lock_guard<std::mutex> l(m);
      kinds.push_back(e.kind);
    });
    int result = 0;
    auto id = q.submit({"sum", 0, ""}, [&](JobContext& ctx) {
      for (int i = 1; i <= 10; ++i) {
        result += i;
        ctx.progress(i / 10.0, "adding");
      }
      ctx.emitData({{"type", "done"}, {"sum", result}});
    });
    QCOMPARE(q.wait(id, 10), JobState::Finished);
    QCOMPARE(result, 55);
    std::lock_guard<std::mutex> l(m);
    QCOMPARE(kinds.front(), JobEvent::Kind::Queued);
    QCOMPARE(kinds.back(), JobEvent::Kind::Finished);
    QVERIFY(std::count(kinds.begin(), kinds.end(), JobEvent::Kind::Data) == 1);
  }
  void failureCarriesTheMessage() {
    JobQueue q(1);
    auto id = q.submit({"bad", 0, ""}, [](JobContext&) { throw std::runtime_error("file.nii: truncated"); });
    QCOMPARE(q.wait(id, 10), JobState::Failed);
    QCOMPARE(q.job(id).error, std::string("file.nii: truncated"));
  }
  void cancelStopsARunningJobQuickly() {
    JobQueue q(1);
    std::atomic<bool> started{false};
    auto id = q.submit({"long", 0, ""}, [&](JobContext& ctx) {
      started = true;
      for (;;) {
        ctx.checkCancel();
        std::this_thread::sleep_for(5ms);
      }
    });
    while (!started) std::this_thread::sleep_for(1ms);
    auto t0 = std::chrono::steady_clock::now();
    q.cancel(id);
    QCOMPARE(q.wait(id, 5), JobState::Cancelled);
    QVERIFY(std::chrono::steady_clock::now() - t0 < 1s);
  }
  void newerPreviewSupersedesStaleOne() {
    JobQueue q(1);
    std::atomic<bool> release{false};
    auto blocker = q.submit({"blocker", 0, ""}, [&](JobContext&) {
      while (!release) std::this_thread::sleep_for(1ms);
    });
    std::atomic<int> ran{0};
    auto a = q.submit({"preview", 0, "mask"}, [&](JobContext&) { ran = 1; });
    auto b = q.submit({"preview", 0, "mask"}, [&](JobContext&) { ran = 2; });
    QCOMPARE(q.job(a).state, JobState::Cancelled);
    release = true;
    QCOMPARE(q.wait(b, 5), JobState::Finished);
    QCOMPARE(ran.load(), 2);
    QCOMPARE(q.wait(blocker, 5), JobState::Finished);
  }
  void higherPriorityRunsFirst() {
    JobQueue q(1);
    std::atomic<bool> release{false};
    q.submit({"blocker", 0, ""}, [&](JobContext&) {
      while (!release) std::this_thread::sleep_for(1ms);
    });
    std::vector<int> order;
    std::mutex m;
    q.submit({"low", 0, ""}, [&](JobContext&) { std::lock_guard<std::mutex> l(m); order.push_back(0); });
    q.submit({"high", 5, ""}, [&](JobContext&) { std::lock_guard<std::mutex> l(m); order.push_back(5); });
    release = true;
    QVERIFY(q.waitIdle(5));
    QCOMPARE(order, (std::vector<int>{5, 0}));
  }
  // Each GUI preview captures a full-size volume; a queue that kept ended closures kept every one of them.
  void closureIsReleasedWhenTheJobEnds_data() {
    QTest::addColumn<QString>("how");
    QTest::addColumn<JobState>("expected");
    QTest::newRow("finished") << "finished" << JobState::Finished;
    QTest::newRow("failed") << "failed" << JobState::Failed;
    QTest::newRow("cancelled while queued") << "cancel queued" << JobState::Cancelled;
    QTest::newRow("cancelled while running") << "cancel running" << JobState::Cancelled;
    QTest::newRow("superseded by its coalesce key") << "superseded" << JobState::Cancelled;
  }
  void closureIsReleasedWhenTheJobEnds() {
    QFETCH(QString, how);
    QFETCH(JobState, expected);
    JobQueue q(1);
    auto payload = std::make_shared<std::vector<float>>(1 << 20, 2.5f);
    const std::weak_ptr<std::vector<float>> watch = payload;

    // What a listener sees at each terminal event: the job's closure must already be gone by then. Keyed by
    // id because a quick job can end before submit() has returned its id.
    std::mutex m;
    std::map<uint64_t, bool> expiredAtEnd;
    q.subscribe([&](const JobEvent& e) {
      if (e.kind == JobEvent::Kind::Finished || e.kind == JobEvent::Kind::Failed ||
          e.kind == JobEvent::Kind::Cancelled) {
        std::lock_guard<std::mutex> l(m);
        expiredAtEnd[e.jobId] = watch.expired();
      }
    });

    std::atomic<bool> release{false};
    if (how == "cancel queued" || how == "superseded") {
      q.submit({"blocker", 0, ""}, [&](JobContext&) {
        while (!release) std::this_thread::sleep_for(1ms);
      });
    }
    std::atomic<bool> started{false};
    std::atomic<double> seen{0};
    const std::string key = how == "superseded" ? "k-preview" : "";
    // Moved in, so the closure is the payload's only owner.
    const uint64_t id = q.submit({"preview", 0, key}, [payload = std::move(payload), &started, &seen,
                                                       how](JobContext& ctx) {
      started = true;
      seen = double(payload->size()) * double(payload->back());
      if (how == "failed") throw std::runtime_error("labels.nii: disk full");
      if (how == "cancel running")
        for (;;) {
          ctx.checkCancel();
          std::this_thread::sleep_for(1ms);
        }
    });

    if (how == "cancel queued") {
      q.cancel(id);
      QVERIFY(watch.expired());  // cancel() of a queued job releases before it returns
    } else if (how == "cancel running") {
      while (!started) std::this_thread::sleep_for(1ms);
      QVERIFY(!watch.expired());  // still running: its closure must stay
      q.cancel(id);
    } else if (how == "superseded") {
      q.submit({"preview", 0, key}, [](JobContext&) {});
      QVERIFY(watch.expired());  // submit() of the newer request releases the stale one before it returns
      QCOMPARE(q.job(id).message, std::string("superseded"));
    }
    QCOMPARE(q.wait(id, 5), expected);
    QVERIFY(watch.expired());
    release = true;
    QVERIFY(q.waitIdle(5));
    QVERIFY(watch.expired());
    {
      std::lock_guard<std::mutex> l(m);
      QVERIFY(expiredAtEnd.count(id) == 1);
      QVERIFY(expiredAtEnd[id]);
    }
    QCOMPARE(q.job(id).state, expected);
    const bool ran = how == "finished" || how == "failed" || how == "cancel running";
    QCOMPARE(seen.load(), ran ? double(1 << 20) * 2.5 : 0.0);
  }
  void waitIdleReturnsOnlyAfterEveryClosureIsReleased() {
    // Two workers racing to finish while waitIdle() watches: whenever it returns, nothing is captured.
    JobQueue q(2);
    std::vector<std::weak_ptr<int>> watches;
    std::atomic<int> sum{0};
    for (int i = 0; i < 200; ++i) {
      auto p = std::make_shared<int>(i);
      watches.push_back(p);
      // Half share a coalesce key, so some are superseded while queued and some cancelled while running.
      q.submit({"tiny", i % 3, i % 2 ? "odd" : ""}, [p = std::move(p), &sum](JobContext&) { sum += *p; });
    }
    QVERIFY(q.waitIdle(10));
    int alive = 0;
    for (const auto& w : watches) alive += w.expired() ? 0 : 1;
    QCOMPARE(alive, 0);
    // Every job without a key ran (0 + 2 + ... + 198); keyed ones may have been superseded.
    QVERIFY(sum.load() >= 9900);
    QVERIFY(sum.load() <= 199 * 200 / 2);
  }
  void waitIdleWaitsForAClosureFreedOnAnotherThread() {
    // Destroying a big capture takes time; waitIdle() on one thread must not slip through while another
    // thread's cancel() is still freeing a job it took off the queue.
    struct SlowToFree {
      std::atomic<bool>* started;
      std::atomic<bool>* done;
      ~SlowToFree() {
        *started = true;
        std::this_thread::sleep_for(300ms);
        *done = true;
      }
    };
    JobQueue q(1);
    std::atomic<bool> release{false}, freeing{false}, freed{false};
    const auto blocker = q.submit({"blocker", 0, ""}, [&](JobContext&) {
      while (!release) std::this_thread::sleep_for(1ms);
    });
    std::shared_ptr<SlowToFree> slow(new SlowToFree{&freeing, &freed});
    const auto victim = q.submit({"victim", 0, ""}, [slow = std::move(slow)](JobContext&) {});
    std::thread canceller([&] { q.cancel(victim); });
    while (!freeing) std::this_thread::sleep_for(1ms);
    release = true;
    const JobState blockerState = q.wait(blocker, 5);
    const bool idle = q.waitIdle(5);
    const bool freedWhenIdle = freed;
    canceller.join();  // before any QVERIFY can return early
    QCOMPARE(blockerState, JobState::Finished);
    QVERIFY(idle);
    QVERIFY(freedWhenIdle);
    QCOMPARE(q.job(victim).state, JobState::Cancelled);
  }
  void historyKeepsOnlyTheLastEndedJobs() {
    QCOMPARE(JobQueue().historyLimit(), JobQueue::kDefaultHistoryLimit);
    JobQueue q(1, 20);
    QCOMPARE(q.historyLimit(), size_t(20));
    std::atomic<int> ran{0};
    std::vector<uint64_t> ids;
    for (int i = 0; i < 500; ++i) ids.push_back(q.submit({"tiny", 0, ""}, [&](JobContext&) { ++ran; }));
    QVERIFY(q.waitIdle(10));
    QCOMPARE(ran.load(), 500);
    const auto js = q.jobs();
    QCOMPARE(js.size(), size_t(20));
    // One worker ends jobs in submission order, so the history is exactly the last 20 ids, in order.
    for (size_t i = 0; i < js.size(); ++i) {
      QCOMPARE(js[i].id, ids[480 + i]);
      QCOMPARE(js[i].state, JobState::Finished);
    }
    q.setHistoryLimit(3);
    QCOMPARE(q.jobs().size(), size_t(3));
    QCOMPARE(q.jobs().front().id, ids[497]);
  }
  void queuedAndRunningJobsAreNeverPruned() {
    JobQueue q(1, 5);
    std::atomic<bool> started{false}, release{false};
    q.submit({"blocker", 0, ""}, [&](JobContext&) {
      started = true;
      while (!release) std::this_thread::sleep_for(1ms);
    });
    while (!started) std::this_thread::sleep_for(1ms);
    for (int i = 0; i < 100; ++i) q.submit({"waiting", 0, ""}, [](JobContext&) {});
    auto js = q.jobs();
    QCOMPARE(js.size(), size_t(101));
    QCOMPARE(js.front().state, JobState::Running);
    QCOMPARE(int(std::count_if(js.begin(), js.end(), [](const JobInfo& j) { return j.state == JobState::Queued; })),
             100);
    release = true;
    QVERIFY(q.waitIdle(10));
    js = q.jobs();
    QCOMPARE(js.size(), size_t(5));
    for (const auto& j : js) QCOMPARE(j.name, std::string("waiting"));
  }
  void waitOnAPrunedIdReturnsAtOnce() {
    JobQueue q(1, 3);
    const auto first = q.submit({"bad", 0, ""}, [](JobContext&) { throw std::runtime_error("bad input"); });
    for (int i = 0; i < 10; ++i) q.submit({"tiny", 0, ""}, [](JobContext&) {});
    const auto last = q.submit({"bad", 0, ""}, [](JobContext&) { throw std::runtime_error("bad input"); });
    QVERIFY(q.waitIdle(5));

    auto t0 = std::chrono::steady_clock::now();
    QCOMPARE(q.wait(first, 5), JobState::Finished);  // pruned: documented as Finished, outcome forgotten
    QCOMPARE(q.wait(first), JobState::Finished);      // and no timeout needed
    QVERIFY(std::chrono::steady_clock::now() - t0 < 500ms);
    const JobInfo pruned = q.job(first);
    QCOMPARE(pruned.id, first);
    QCOMPARE(pruned.state, JobState::Finished);
    QCOMPARE(pruned.message, std::string("pruned from the job history"));

    // Still in the history: the real outcome.
    QCOMPARE(q.wait(last, 5), JobState::Failed);
    QCOMPARE(q.job(last).error, std::string("bad input"));

    // Never issued: Failed and a default info, also at once.
    t0 = std::chrono::steady_clock::now();
    QCOMPARE(q.wait(last + 1000, 5), JobState::Failed);
    QVERIFY(std::chrono::steady_clock::now() - t0 < 500ms);
    QCOMPARE(q.job(last + 1000).id, uint64_t(0));
  }
};

QTEST_GUILESS_MAIN(TestJobQueue)
#include "test_jobqueue.moc"
