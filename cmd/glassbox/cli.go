package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes, the same for every command.
const (
	exitOK       = 0 // success
	exitNotFound = 1 // ran, but found nothing or found a problem
	exitUsage    = 2 // usage error, or a backend could not be reached
)

// env is what a command may touch of the outside world. Tests give their
// own; main gives the process's.
type env struct {
	stdin  io.Reader
	stdout io.Writer // results only: what a script would parse
	stderr io.Writer // messages, progress and errors
	getenv func(string) string
}

// command is one subcommand, defined in a file of its own (trace.go,
// setup.go, doctor.go, ...).
type command struct {
	// name is the word after "glassbox".
	name string
	// args is the synopsis after the name, e.g. "[flags] <id>".
	args string
	// short is the one-line summary shown by "glassbox help".
	short string
	// long is the help text after the usage line: what the command does,
	// its examples and its exit codes. The flags are listed after it.
	long string
	// flags declares the command's flags on fs and returns the function
	// that runs the command with the arguments left after parsing.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *env, args []string) int
	// sub are the command's own subcommands ("setup elasticsearch"), when
	// it has any; flags is then nil.
	sub []*command
}

// commands lists glassbox's subcommands in the order help shows them.
func commands() []*command {
	return []*command{
		traceCommand(),
		setupCommand(),
		doctorCommand(),
		debugTokenCommand(),
	}
}

// run runs the glassbox command line args and returns the exit code.
func run(ctx context.Context, args []string, e *env) int {
	top := &command{name: "glassbox", sub: commands()}
	if len(args) == 0 {
		usage(e.stderr, top, nil)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(e, top, args[1:])
	}
	return dispatch(ctx, e, top, nil, args)
}

// dispatch finds the subcommand of parent named by args[0] and runs it.
func dispatch(ctx context.Context, e *env, parent *command, path []string, args []string) int {
	path = append(path, parent.name)
	if len(args) == 0 {
		usage(e.stderr, parent, path[:len(path)-1])
		return exitUsage
	}
	c := find(parent.sub, args[0])
	if c == nil {
		fmt.Fprintf(e.stderr, "%s: unknown command %q\n", strings.Join(path, " "), args[0])
		fmt.Fprintf(e.stderr, "Run '%s help' for usage.\n", strings.Join(path, " "))
		return exitUsage
	}
	if c.sub != nil {
		if len(args) > 1 {
			switch args[1] {
			case "-h", "-help", "--help", "help":
				usage(e.stdout, c, path)
				return exitOK
			}
		}
		return dispatch(ctx, e, c, path, args[1:])
	}
	fs := flag.NewFlagSet(strings.Join(append(path, c.name), " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runFn := c.flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(e.stdout, c, path)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "%s: %v\n", fs.Name(), err)
		fmt.Fprintf(e.stderr, "Run 'glassbox help %s' for usage.\n", strings.Join(append(path[1:], c.name), " "))
		return exitUsage
	}
	return runFn(ctx, e, fs.Args())
}

// help prints the help of the command named by args ("glassbox help setup
// kibana"), or the overview.
func help(e *env, top *command, args []string) int {
	c, path := top, []string(nil)
	for _, a := range args {
		if c.sub == nil {
			break
		}
		next := find(c.sub, a)
		if next == nil {
			fmt.Fprintf(e.stderr, "glassbox help: unknown command %q\n", strings.Join(args, " "))
			return exitUsage
		}
		path = append(path, c.name)
		c = next
	}
	usage(e.stdout, c, path)
	return exitOK
}

func find(cs []*command, name string) *command {
	for _, c := range cs {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usage writes c's help to w. path is the chain of parent names.
func usage(w io.Writer, c *command, path []string) {
	full := strings.Join(append(append([]string(nil), path...), c.name), " ")
	if c.sub != nil {
		if c.long != "" {
			fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.long))
		} else if len(path) == 0 {
			fmt.Fprintf(w, "glassbox finds the story of a request by its ID, prepares the backends\nglassbox ships to, and checks that data reaches them.\n\n")
		}
		fmt.Fprintf(w, "Usage:\n\n\t%s <command> [flags] [arguments]\n\nThe commands are:\n\n", full)
		width := 0
		for _, s := range c.sub {
			width = max(width, len(s.name))
		}
		for _, s := range c.sub {
			fmt.Fprintf(w, "\t%-*s  %s\n", width, s.name, s.short)
		}
		fmt.Fprintf(w, "\nUse \"glassbox help %s<command>\" for more information about a command.\n", helpPrefix(path, c))
		if len(path) == 0 {
			fmt.Fprintf(w, "\nExit status: 0 on success, 1 when nothing was found or a check failed,\n2 on a usage error or when a backend could not be reached.\n")
		}
		return
	}
	fmt.Fprintf(w, "usage: %s %s\n\n", full, c.args)
	if c.long != "" {
		fmt.Fprintf(w, "%s\n", strings.TrimRight(c.long, "\n"))
	}
	fs := flag.NewFlagSet(full, flag.ContinueOnError)
	c.flags(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

func helpPrefix(path []string, c *command) string {
	if len(path) == 0 {
		return ""
	}
	return strings.Join(append(append([]string(nil), path[1:]...), c.name), " ") + " "
}
