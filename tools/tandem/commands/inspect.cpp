#include "../cli.h"
#include "tandem/error.h"

namespace tandem::cli {

// Coming with its issue; the option parsing and dispatch are in place.
int run_inspect(const CommandLine&) { throw Error(ErrorKind::usage, "tandem inspect is not built yet"); }

}  // namespace tandem::cli
