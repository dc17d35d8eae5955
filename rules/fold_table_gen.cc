#include <cstdio>
int main(int argc, char** argv) { if (argc < 2) return 1; FILE* f = std::fopen(argv[1], "w"); std::fclose(f); return 0; }
