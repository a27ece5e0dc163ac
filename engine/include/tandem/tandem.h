// The whole public API of tandem, for an application that embeds it (DESIGN §19):
//
//   #include <tandem/tandem.h>
//
//   auto deployment = tandem::Deployment::single(tandem::DatabaseUrl::parse("sqlite:app.db"));
//   deployment.repos = "/usr/share/myapp/migrations";
//   tandem::Engine engine(deployment);
//   tandem::RunOptions options;
//   for (const auto& database : engine.status(options))
//     if (database.readiness == tandem::Readiness::expand_needed) engine.run(tandem::Phase::expand, options);
//
// Link with find_package(tandem) and tandem::tandem, or `pkg-config --cflags --libs tandem`.
// Public headers include only the standard library and each other.
#pragma once

#include "tandem/archive.h"
#include "tandem/baseline.h"
#include "tandem/deployment.h"
#include "tandem/engine.h"
#include "tandem/error.h"
#include "tandem/findings.h"
#include "tandem/model.h"
#include "tandem/phase.h"
#include "tandem/releases.h"
#include "tandem/report.h"
#include "tandem/repository_tools.h"
#include "tandem/schema.h"
#include "tandem/schema_diff.h"
#include "tandem/status.h"
#include "tandem/url.h"
#include "tandem/version.h"
