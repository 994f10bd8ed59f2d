#include "ui/GuiMain.h"

int main(int argc, char** argv) { return jseg::ui::guiMain(argc, argv); }
