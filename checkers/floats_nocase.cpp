// Standalone CMS checker: the "floats_nocase" comparator of ioi-eval (same code as ioi_box._native.compare).
//   floats_nocase <input> <correct_output> <contestant_output> [abs_tol rel_tol]
#include "../cpp/compare.hpp"

int main(int argc, char** argv) { return ioi::checker_main("floats_nocase", argc, argv); }
