// Standalone CMS checker: the "white_diff" comparator of ioi-eval (same code as ioi_box._native.compare).
//   white_diff <input> <correct_output> <contestant_output> [abs_tol rel_tol]
#include "../cpp/compare.hpp"

int main(int argc, char** argv) { return ioi::checker_main("white_diff", argc, argv); }
