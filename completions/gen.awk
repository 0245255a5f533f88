# Write one shell's completion for ringcast from completions/ringcast.options
# (its comment says what the fields are):
#   awk -v shell=bash|zsh|fish -f completions/gen.awk completions/ringcast.options
# POSIX awk; the Makefile runs it, tests/docs.bats checks what it writes.

function die(msg) {
	print "completions/ringcast.options:" NR ": " msg > "/dev/stderr"
	failed = 1
	exit 1
}

# s in single quotes, for bash, zsh (which end and reopen them) or fish.
function sq(s) {
	gsub(/'/, shell == "fish" ? "\\'" : "'\"'\"'", s)
	return "'" s "'"
}

BEGIN {
	FS = "|"
	if (shell != "bash" && shell != "zsh" && shell != "fish")
		die("shell must be bash, zsh or fish")
}

/^#/ || /^$/ { next }

{
	if (NF != 6)
		die("expected 6 fields, found " NF)
	if ($2 !~ /^[a-z0-9-]+$/ || ($1 != "-" && $1 !~ /^[a-zA-Z0-9]$/))
		die("not a letter and a long name: " $1 ", " $2)
	if ($4 != "" && $3 == "")
		die("--" $2 ": values for an option without an argument")
	if (index($6, "[") || index($6, "]") || index($6, ":"))
		die("--" $2 ": a description with [, ] or : (zsh reads them)")
	n++
	letter[n] = $1 == "-" ? "" : $1
	name[n] = $2
	arg[n] = $3
	values[n] = $4
	zsh[n] = $5
	desc[n] = $6
}

# -x | --long, for bash's case.
function names(i) {
	return (letter[i] != "" ? "-" letter[i] " | " : "") "--" name[i]
}

function bash(i, files, other, words) {
	print "# bash completion for ringcast (written by completions/gen.awk from"
	print "# completions/ringcast.options)"
	print "_ringcast() {"
	print "    local cur prev"
	print "    cur=${COMP_WORDS[COMP_CWORD]}"
	print "    prev=${COMP_WORDS[COMP_CWORD - 1]}"
	print "    case $prev in"
	for (i = 1; i <= n; i++) {
		if (values[i] == "files")
			files = files (files != "" ? " | " : "") names(i)
		else if (arg[i] != "" && values[i] == "")
			other = other (other != "" ? " | " : "") names(i)
	}
	print "        " files ")"
	print "            compopt -o filenames 2>/dev/null"
	print "            COMPREPLY=($(compgen -f -- \"$cur\"))"
	print "            return ;;"
	for (i = 1; i <= n; i++) {
		if (values[i] == "" || values[i] == "files")
			continue
		print "        " names(i) ")"
		print "            COMPREPLY=($(compgen -W \"" values[i] "\" -- \"$cur\"))"
		print "            return ;;"
	}
	print "        " other ")"
	print "            return ;;"
	print "    esac"
	print "    if [[ $cur == -* ]]; then"
	for (i = 1; i <= n; i++)
		words = words (words != "" ? " " : "") "--" name[i]
	for (i = 1; i <= n; i++)
		if (letter[i] != "")
			words = words " -" letter[i]
	print "        COMPREPLY=($(compgen -W \"" words "\" -- \"$cur\"))"
	print "    elif [[ \" ${COMP_WORDS[*]} \" == *\" --serve \"* ]]; then"
	print "        compopt -o filenames 2>/dev/null"
	print "        COMPREPLY=($(compgen -f -- \"$cur\"))"
	print "    fi"
	print "}"
	print "complete -F _ringcast ringcast"
}

function zsh_spec(i, spec, action) {
	if (arg[i] != "") {
		action = values[i] == "files" ? "_files" : values[i] != "" ? "(" values[i] ")" : ""
		spec = ":" arg[i] ":" action
	}
	spec = "[" desc[i] "]" spec
	if (letter[i] == "")
		return sq(zsh[i] "--" name[i] (arg[i] != "" ? "=" : "") spec)
	return (zsh[i] != "" ? sq(zsh[i]) : "") \
	       "{-" letter[i] (arg[i] != "" ? "+" : "") ",--" name[i] (arg[i] != "" ? "=" : "") "}" sq(spec)
}

function zsh_out(i) {
	print "#compdef ringcast"
	print "# zsh completion for ringcast (written by completions/gen.awk from"
	print "# completions/ringcast.options)"
	print ""
	print "_arguments -s -S \\"
	for (i = 1; i <= n; i++)
		print "  " zsh_spec(i) " \\"
	print "  '*:dest (HOST\\:PORT) or blob:_files'"
}

function fish(i, line) {
	print "# fish completion for ringcast (written by completions/gen.awk from"
	print "# completions/ringcast.options)"
	for (i = 1; i <= n; i++) {
		line = "complete -c ringcast" (letter[i] != "" ? " -s " letter[i] : "") " -l " name[i]
		if (values[i] == "files")
			line = line " -r -F"
		else if (arg[i] != "")
			line = line " -x" (values[i] != "" ? " -a " sq(values[i]) : "")
		print line " -d " sq(toupper(substr(desc[i], 1, 1)) substr(desc[i], 2))
	}
}

END {
	if (failed)
		exit 1
	if (shell == "bash")
		bash()
	else if (shell == "zsh")
		zsh_out()
	else
		fish()
}
