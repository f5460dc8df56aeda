int find_summit(int N);
int altitude(int i);
