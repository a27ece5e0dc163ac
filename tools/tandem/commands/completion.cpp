#include <fmt/format.h>

#include <iostream>

#include "../cli.h"
#include "tandem/error.h"

namespace tandem::cli {

namespace {

// Installed as share/bash-completion/completions/tandem, which the build writes by
// running `tandem completion bash`: this text is the only copy.
constexpr const char* kBashCompletion = R"(# bash completion for tandem                              -*- shell-script -*-
_tandem()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        COMPREPLY=()
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="new check status expand migrate contract abort upgrade repair release history inspect compare verify baseline archive purge completion"
    local options="--help --version --db --config --repos --to --dry-run --format --verbose --no-progress --wait
        --lock-timeout --lock-retries --database --cell --check --from-model --model --dev-db --max-rows --before --until-complete
        --purge --all --sleep --batch-size --jobs --batch-time --max-count --serves --ignore-releases --service
        --release --instance --ttl --every"

    case $prev in
        --config)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --repos|--model)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --format)
            COMPREPLY=($(compgen -W "text json github yaml" -- "$cur")); return ;;
        --database)
            COMPREPLY=($(compgen -W "api cell main" -- "$cur")); return ;;
        --db|--dev-db)
            COMPREPLY=($(compgen -W "sqlite: sqlite:/// sqlite::memory: postgresql:// mysql:// mariadb://" -- "$cur")); return ;;
        --to|--wait|--lock-timeout|--lock-retries|--cell|--max-rows|--before|--sleep|--batch-size|--jobs|-j|--batch-time|--max-count|--serves|--service|--release|--instance|--ttl|--every)
            return ;;
        release)
            COMPREPLY=($(compgen -W "register list forget" -- "$cur")); return ;;
        completion)
            COMPREPLY=($(compgen -W "bash" -- "$cur")); return ;;
    esac

    local i command=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --config|--repos|--model|--format|--database|--db|--dev-db|--to|--wait|--lock-timeout|--lock-retries|--cell|--max-rows|--before|--sleep|--batch-size|--jobs|-j|--batch-time|--max-count|--serves|--service|--release|--instance|--ttl|--every)
                ((i++)) ;;
            -*) ;;
            *) command=${words[i]}; break ;;
        esac
    done

    if [[ $cur == -* || -n $command ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
} &&
    complete -F _tandem tandem
)";

}  // namespace

int run_completion(const CommandLine& line) {
  if (line.arguments.size() != 1 || line.arguments.front() != "bash")
    throw Error(ErrorKind::usage, "usage: tandem completion bash");
  std::cout << kBashCompletion;
  return 0;
}

}  // namespace tandem::cli
