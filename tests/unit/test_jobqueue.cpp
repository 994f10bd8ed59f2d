// ctest-links: juleseg_base
#include <QtTest>
#include <atomic>
#include <chrono>
#include <thread>

#include "core/jobs/JobQueue.h"

using namespace jseg;
using namespace std::chrono_literals;

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
};

QTEST_GUILESS_MAIN(TestJobQueue)
#include "test_jobqueue.moc"
