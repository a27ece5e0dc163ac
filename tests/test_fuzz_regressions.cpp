// What the fuzz targets (fuzz/, tools/fuzz.sh) found, kept: every input under
// fuzz/regressions/<target>/ replays through the same harness the fuzzer ran, and must be
// answered (a result, or a tandem::Error with a kind and a message), never a crash, a
// hang or another exception. The cases below each pin the answer to one finding.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "../fuzz/harness.h"

namespace fs = std::filesystem;
using tandem::Error;
using tandem::ErrorKind;

namespace {

std::vector<fs::path> kept_inputs(const std::string& target) {
  std::vector<fs::path> paths;
  const fs::path folder = fs::path(TANDEM_SOURCE_DIR) / "fuzz" / "regressions" / target;
  if (fs::is_directory(folder))
    for (const auto& entry : fs::directory_iterator(folder)) paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Each kept input of `target` is answered; returns how many there were.
size_t replay(const std::string& target, const std::function<void(std::string_view)>& harness) {
  const auto inputs = kept_inputs(target);
  for (const auto& path : inputs) {
    INFO("kept input: ", path.string());
    try {
      harness(bytes_of(path));
    } catch (const Error& error) {
      CHECK(std::string(error.what()).size() > 0);
    }
  }
  return inputs.size();
}

}  // namespace

TEST_CASE("fuzz regressions: every kept input is answered, not crashed on") {
  replay("sql", tandem::fuzz::sql_input);
  replay("url", tandem::fuzz::url_input);
  replay("unit", [](std::string_view data) { (void)tandem::fuzz::unit_input(data); });
  replay("config", [](std::string_view data) { (void)tandem::fuzz::config_input(data); });
}

// The harnesses themselves: a kept input replays through the loaders, not around them.
TEST_CASE("fuzz regressions: the harnesses answer as the loaders do") {
  const std::string bundled = bytes_of(fs::path(TANDEM_SOURCE_DIR) / "expand_repo" / "001_initial_schema.yaml");
  CHECK(tandem::fuzz::unit_input(bundled) > 0);  // an expand unit is refused in the other two phases
  CHECK(tandem::fuzz::unit_input("description: nothing\noperations: []\n") == 0);
  CHECK(tandem::fuzz::unit_input("description: [") == 3);  // broken YAML, once per repository
  try {
    tandem::fuzz::url_input("postgresql://u@host:abc/db");
    FAIL("a port that is no number is refused");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::bad_config);
  }
  const tandem::Deployment deployment = tandem::fuzz::config_input("databases: {main: \"sqlite::memory:\"}\n");
  REQUIRE(deployment.databases.size() == 1);
  CHECK(deployment.databases[0].role == "main");
  CHECK_THROWS_AS(tandem::fuzz::config_input("databases: {}\n"), Error);
  tandem::fuzz::sql_input("1CREATE FUNCTION f() AS $$ ; $$; DROP TABLE t");
}
