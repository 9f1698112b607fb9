#include "lbctl/cli/cli.hpp"

int main(int argc, char** argv) { return lbctl::run_cli(argc, argv); }
