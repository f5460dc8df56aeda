// For each tower, scans to the right until a taller one: O(N^2) in the worst case.
#include "towers.h"

std::vector<int> relay(std::vector<int> H) {
  int n = (int)H.size();
  std::vector<int> R(n, -1);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (H[j] > H[i]) {
        R[i] = j;
        break;
      }
  return R;
}
