#include "../cli.h"
#include "tandem/error.h"

namespace tandem::cli {

// Coming with its issue; the option parsing and dispatch are in place.
int run_archive(const CommandLine&) { throw Error(ErrorKind::usage, "tandem archive is not built yet"); }

}  // namespace tandem::cli
