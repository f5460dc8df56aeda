# For each tower, scans to the right until a taller one: O(N^2) in the worst case.


def relay(H):
    n = len(H)
    R = [-1] * n
    for i in range(n):
        h = H[i]
        for j in range(i + 1, n):
            if H[j] > h:
                R[i] = j
                break
    return R
