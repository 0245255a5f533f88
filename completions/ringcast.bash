# bash completion for ringcast
_ringcast() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    case $prev in
        -i | --input | --dests-from | --stats)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --mlock)
            COMPREPLY=($(compgen -W "auto on off" -- "$cur"))
            return ;;
        --transport)
            COMPREPLY=($(compgen -W "auto uring msgzc sendfile copy" -- "$cur"))
            return ;;
        --slow)
            COMPREPLY=($(compgen -W "block drop" -- "$cur"))
            return ;;
        --join)
            COMPREPLY=($(compgen -W "start live oldest" -- "$cur"))
            return ;;
        -o | --output | --ring-size | --chunk | --grace | --stall-timeout | --rate | -s | --size | -H | --header | -u | --user | --extract | -l | --listen | --max-clients | \
            --max-header | --header-timeout | --idle-timeout | --max-lag | --retry | --connect-timeout | -j | --threads | --min-subscribers | \
            --max-subscribers | --wait-timeout | --allow)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--input --output --dests-from --progress --stats --ring-size --chunk --mlock --transport
            --ipv4 --ipv6 --grace --stall-timeout --slow --max-lag --retry --connect-timeout --threads
            --min-subscribers --max-subscribers --wait-timeout --join --allow --rate --size --header --user --netrc --extract --decompress --serve --listen --http --unpack --max-clients --max-header
            --header-timeout --idle-timeout --verbose --quiet --help --version
            -i -o -l -j -s -H -u -z -P -4 -6 -v -q -h -V" -- "$cur"))
    elif [[ " ${COMP_WORDS[*]} " == *" --serve "* ]]; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _ringcast ringcast
