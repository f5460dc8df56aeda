// Crashes with a segmentation fault in the middle of the protocol.
#include "summit.h"

int find_summit(int /*N*/) {
    int v = altitude(0);
    volatile int* p = nullptr;
    if (v > 0) *p = v;
    return 0;
}
