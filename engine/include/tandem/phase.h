#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem {

enum class Phase { expand, migrate, contract };

inline constexpr Phase kPhases[] = {Phase::expand, Phase::migrate, Phase::contract};

const char* phase_name(Phase phase);              // "expand"
const char* repository_folder(Phase phase);       // "expand_repo"
std::optional<Phase> parse_phase(std::string_view name);

}  // namespace tandem
