// Walks up from position 0: fine for N <= 200, too many calls for large N.
#include "summit.h"

int find_summit(int N) {
    int i = 0;
    int cur = altitude(0);
    while (i + 1 < N) {
        int nxt = altitude(i + 1);
        if (nxt < cur) break;
        cur = nxt;
        i++;
    }
    return i;
}
