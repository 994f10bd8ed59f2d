#pragma once
namespace jseg::ui {
int guiMain(int argc, char** argv);
}
