// Monotonic stack, scanning from the right: O(N).
#include "towers.h"

std::vector<int> relay(std::vector<int> H) {
  int n = (int)H.size();
  std::vector<int> R(n, -1), st;  // st: indices with strictly decreasing heights
  for (int i = n - 1; i >= 0; i--) {
    while (!st.empty() && H[st.back()] <= H[i]) st.pop_back();
    if (!st.empty()) R[i] = st.back();
    st.push_back(i);
  }
  return R;
}
