#include <fmt/format.h>

#include <iostream>

#include "../cli.h"
#include "tandem/error.h"
#include "tandem/repository_tools.h"

namespace tandem::cli {

int run_new(const CommandLine& line) {
  if (line.arguments.size() != 1) throw Error(ErrorKind::usage, "usage: tandem new NAME");
  for (const auto& path : new_version(line.repos_folder(), line.arguments.front()))
    std::cout << "created " << path.lexically_normal().string() << "\n";
  return 0;
}

}  // namespace tandem::cli
