# fish completion for the vaultctl tools.  Commands and options come from
# each tool's hidden --list-commands; names from the database.

function __vaultctl_tool
    set -l cmd (commandline -opc)
    if test "$cmd[1]" = vaultctl
        echo vaultctl-$cmd[2]
    else
        echo $cmd[1]
    end
end

function __vaultctl_words
    set -l cmd (commandline -opc)
    if test "$cmd[1]" = vaultctl
        set cmd $cmd[2..-1]
    end
    string join ' ' -- $cmd[2..-1]
end

function __vaultctl_next_word
    set -l tool (__vaultctl_tool)
    set -l typed (__vaultctl_words)
    for line in ($tool --list-commands 2>/dev/null)
        set -l name (string replace -r ' --.*' '' -- $line)
        set -l words (string split ' ' -- $name)
        set -l n (count (string split ' ' -- $typed))
        if test -z "$typed"
            echo $words[1]
        else if string match -q -- "$typed *" "$name"
            echo $words[(math $n + 1)]
        end
    end | sort -u
end

function __vaultctl_refs
    # rekey takes no names
    string match -q -- 'rekey*' (__vaultctl_words); and return
    string match -q -- 'inject*' (__vaultctl_words); and return
    set -l cur (commandline -ct)
    set -l parts (string split / -- $cur)
    switch (count $parts)
        case 0 1
            vaultctl-org list -o tsv 2>/dev/null | cut -f1 | sed 's|$|/|'
        case 2
            vaultctl-org project list $parts[1] -o tsv 2>/dev/null | cut -f1 | sed "s|^|$parts[1]/|;s|\$|/|"
        case 3
            vaultctl-org env list $parts[1]/$parts[2] -o tsv 2>/dev/null | cut -f1 | sed "s|^|$parts[1]/$parts[2]/|;s|\$|/|"
        case '*'
            vaultctl-secret list $parts[1]/$parts[2]/$parts[3] -o tsv 2>/dev/null | cut -f1 | sed "s|^|$parts[1]/$parts[2]/$parts[3]/|"
    end
end

for t in vaultctl-org vaultctl-secret vaultctl-plan vaultctl-audit
    complete -c $t -f -a '(__vaultctl_next_word) (__vaultctl_refs)'
    complete -c $t -s h -l help -d 'show usage'
    complete -c $t -s V -l version -d 'show version'
    complete -c $t -s c -l config -r -d 'configuration file'
    complete -c $t -l as -x -d 'acting user (email)'
    complete -c $t -s o -l output -x -a 'table json tsv jsonl csv' -d 'output format'
    complete -c $t -s q -l quiet
    complete -c $t -s v -l verbose
    complete -c $t -l no-color
end
complete -c vaultctl -f -n '__fish_is_first_token' -a 'org secret plan audit shell'
# policy ORG[/PROJECT[/ENV]]: the role it is for, and --read-only.
for t in vaultctl-org vaultctl
    complete -c $t -n '__fish_seen_subcommand_from policy' -l role -x -a 'owner admin member viewer' -d 'role the policy is for'
    complete -c $t -n '__fish_seen_subcommand_from policy' -l read-only -d 'read and list only'
end
# restore-env ORG/PROJECT/ENV --at TIME [--dry-run] [--yes]
for t in vaultctl-secret vaultctl
    complete -c $t -n '__fish_seen_subcommand_from restore-env' -l at -x -d 'time: ISO 8601 or an age such as 2h'
    complete -c $t -n '__fish_seen_subcommand_from restore-env' -l dry-run -d 'print the plan, change nothing'
    complete -c $t -n '__fish_seen_subcommand_from restore-env' -l yes -d 'no confirmation'
end

# run/export --fallback FILE [--fallback-max-age D]: a file, a duration.
for t in vaultctl-secret vaultctl
    complete -c $t -n '__fish_seen_subcommand_from run export' -l fallback -r -F -d 'offline snapshot file'
    complete -c $t -n '__fish_seen_subcommand_from run export' -l fallback-max-age -x -a '1h 24h 7d' -d 'oldest snapshot used'
end

# run: several environments, the caller's variables, --watch.
for t in vaultctl-secret vaultctl
    complete -c $t -n '__fish_seen_subcommand_from run' -l preserve-env -d "the caller's variables win"
    complete -c $t -n '__fish_seen_subcommand_from run' -l watch -d 'restart COMMAND when a secret changes'
    complete -c $t -n '__fish_seen_subcommand_from run' -l interval -x -a '500ms 10s 1m' -d 'between two polls'
    complete -c $t -n '__fish_seen_subcommand_from run' -l signal -x -a 'TERM HUP INT QUIT USR1 USR2' -d 'sent to COMMAND on a change'
end
complete -c vaultctl -f -n 'not __fish_is_first_token' -a '(__vaultctl_next_word) (__vaultctl_refs)'
# inject -i TEMPLATE -o FILE: files (its -o is not the output format).
for t in vaultctl-secret vaultctl
    complete -c $t -n '__fish_seen_subcommand_from inject' -s i -r -F -d 'template'
    complete -c $t -n '__fish_seen_subcommand_from inject' -s o -r -F -d 'file written, mode 0600'
end

# set --cas N: only if the secret is at version N.
for t in vaultctl-secret vaultctl
    complete -c $t -n '__fish_seen_subcommand_from set' -l cas -x -d 'only if the version is N (0: new)'
end
