// Standalone CMS checker: the "yes_no" comparator of ioi-eval (same code as ioi_box._native.compare).
//   yes_no <input> <correct_output> <contestant_output> [abs_tol rel_tol]
#include "../cpp/compare.hpp"

int main(int argc, char** argv) { return ioi::checker_main("yes_no", argc, argv); }
