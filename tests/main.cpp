// The tests' main, for Catch2 2 and 3 alike.
#define CATCH_CONFIG_RUNNER  // Catch2 2: the session, without its main
#include "tests/support/catch.hpp"
#if __has_include(<catch2/catch_session.hpp>)
#include <catch2/catch_session.hpp>
#endif

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
