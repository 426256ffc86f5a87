// SPDX-License-Identifier: MIT
//
// A Go worker driven by the tests, like worker_main.c: commands on stdin,
// one per line; single-byte events on stdout, so the test knows exactly
// when calls are inside the handler. GOMAXPROCS 4: goroutines move between
// threads.
//
//	park CHAIN N     N goroutines enter handle and park          E each
//	grow CHAIN       the parked ones recurse deep (their stacks
//	                 are copied to bigger ones), still in handle  G each
//	hop CHAIN        the parked ones yield until they run on
//	                 another thread than the one they entered on  M each
//	goexit CHAIN     the parked ones call runtime.Goexit          X each, once
//	                 they are gone (runtime.NumGoroutine fell)
//	panic CHAIN      the parked ones panic; a deferred recover
//	                 in their caller catches it                   P each
//	again CHAIN      after `panic`: the recovered goroutines call
//	                 handle again (same depth) and park           E each
//	release CHAIN    the parked ones return                       R each
//	spin CHAIN N     N goroutines call handle in a loop           (none)
//	stop             the spinning goroutines stop                 S once all stopped
//	exec             the process execs itself (parked calls
//	                 still inside handle)                         A from the new image
//	quit             exit 0
package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var out sync.Mutex

func emit(c byte) {
	out.Lock()
	defer out.Unlock()
	if _, err := os.Stdout.Write([]byte{c}); err != nil {
		os.Exit(3)
	}
}

// Each parked goroutine's commands, by chain.
var parkedMu sync.Mutex
var parked = map[string][]chan string{}

//go:noinline
func handle(chain string, cmds chan string) int {
	if cmds == nil {
		return len(chain)
	}
	tid := syscall.Gettid()
	emit('E')
	for cmd := range cmds {
		switch cmd {
		case "grow":
			// 64 KiB of frames at least: the 8 KiB stack is copied, more than once
			if recurse(512) != 512 {
				os.Exit(4)
			}
			emit('G')
		case "hop":
			hop(tid)
			emit('M')
		case "goexit":
			runtime.Goexit()
		case "panic":
			panic("handler failed")
		case "release":
			return len(chain)
		}
	}
	return 0
}

// Frames of 128 bytes or more, deep enough to outgrow the stack.
//
//go:noinline
func recurse(n int) int {
	var pad [16]int64
	pad[n%16] = int64(n)
	if n == 0 {
		return int(pad[0])
	}
	return recurse(n-1) + 1 + int(pad[n%16]) - n
}

// Yields until the scheduler runs this goroutine on another thread.
func hop(from int) {
	for i := 0; i < 10000000; i++ {
		runtime.Gosched()
		if syscall.Gettid() != from {
			return
		}
	}
	emit('!') // never moved: the test fails on the unexpected byte
}

// Calls handle; a panic inside it is recovered here, above the handler.
func call(chain string, cmds chan string) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	handle(chain, cmds)
	return false
}

func park(chain string, n int) {
	for i := 0; i < n; i++ {
		cmds := make(chan string)
		parkedMu.Lock()
		parked[chain] = append(parked[chain], cmds)
		parkedMu.Unlock()
		go func() {
			for call(chain, cmds) {
				emit('P')
				// wait for `again` before calling handle once more
				if <-cmds != "again" {
					os.Exit(5)
				}
			}
			emit('R')
		}()
	}
}

func send(chain, cmd string) {
	parkedMu.Lock()
	chans := parked[chain]
	if cmd == "release" || cmd == "goexit" {
		delete(parked, chain)
	}
	parkedMu.Unlock()
	before := runtime.NumGoroutine()
	for _, c := range chans {
		c <- cmd
	}
	if cmd != "goexit" {
		return
	}
	// a goroutine leaves the count after runtime.goexit1, where it ends
	for runtime.NumGoroutine() > before-len(chans) {
		runtime.Gosched()
	}
	for range chans {
		emit('X')
	}
}

var spinStop = make(chan struct{})
var spinning sync.WaitGroup

func spin(chain string, n int) {
	for i := 0; i < n; i++ {
		spinning.Add(1)
		go func() {
			defer spinning.Done()
			for {
				select {
				case <-spinStop:
					return
				default:
					handle(chain, nil)
				}
			}
		}()
	}
}

func main() {
	runtime.GOMAXPROCS(4)
	if os.Getenv("GO_WORKER_EXECED") == "1" {
		emit('A')
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		n := 0
		if len(f) > 2 {
			n, _ = strconv.Atoi(f[2])
		}
		switch f[0] {
		case "park":
			park(f[1], n)
		case "spin":
			spin(f[1], n)
		case "stop":
			close(spinStop)
			spinning.Wait()
			spinStop = make(chan struct{})
			emit('S')
		case "quit":
			os.Exit(0)
		case "exec":
			err := syscall.Exec("/proc/self/exe", os.Args, append(os.Environ(), "GO_WORKER_EXECED=1"))
			os.Stderr.WriteString("exec: " + err.Error() + "\n")
			os.Exit(6)
		default:
			if len(f) < 2 {
				os.Exit(2)
			}
			send(f[1], f[0])
		}
	}
}
