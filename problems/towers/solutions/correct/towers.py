# Monotonic stack, scanning from the left: each tower waits on the stack until a strictly
# taller tower appears.


def relay(H):
    n = len(H)
    R = [-1] * n
    stack = []
    for j, h in enumerate(H):
        while stack and H[stack[-1]] < h:
            R[stack.pop()] = j
        stack.append(j)
    return R
