#pragma once
// Bad-input tests: f must throw an E whose message contains every needle (file, key, expectation).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::testing {

template <typename E = Error>
void expect_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "expected an error";
  } catch (const E& e) {
    for (const auto& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
          << "'" << n << "' not in: " << e.what();
  }
}

}  // namespace mimic::testing
