#include "../cli.h"
#include "tandem/error.h"

namespace tandem::cli {

// Coming with its issue; the option parsing and dispatch are in place.
int run_compare(const CommandLine&) { throw Error(ErrorKind::usage, "tandem compare is not built yet"); }

}  // namespace tandem::cli
