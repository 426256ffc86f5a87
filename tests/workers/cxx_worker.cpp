// SPDX-License-Identifier: MIT
/*
 * A C++ worker whose handler throws. Commands on stdin, events on stdout:
 *   park CHAIN N   N threads enter cxx_handle and park            E each
 *   throw CHAIN N  N threads enter, park; on release throw out;
 *                  the caller catches                              C each
 *   inner CHAIN N  N threads throw and catch inside the handler,
 *                  then park                                       E each
 *   release        parked calls go on                              R per return
 *   quit           exit 0
 */
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

static std::mutex mu;
static std::condition_variable cv;
static unsigned long generation;

static void emit(char c)
{
	if (write(STDOUT_FILENO, &c, 1) != 1)
		_exit(3);
}

static void park()
{
	std::unique_lock<std::mutex> lk(mu);
	unsigned long gen = generation;

	emit('E');
	cv.wait(lk, [gen] { return generation != gen; });
}

enum { MODE_PARK, MODE_THROW, MODE_INNER };

extern "C" __attribute__((noinline)) int cxx_handle(const char *chain, int mode)
{
	if (mode == MODE_INNER) {
		/* caught inside the handler: its frame stays live */
		try {
			throw std::runtime_error(chain);
		} catch (const std::exception &) {
		}
	}
	park();
	if (mode == MODE_THROW)
		throw std::runtime_error(chain);
	return static_cast<int>(std::strlen(chain));
}

static void run(std::string chain, int mode)
{
	try {
		cxx_handle(chain.c_str(), mode);
		emit('R');
	} catch (const std::exception &) {
		emit('C');
	}
}

int main()
{
	std::vector<std::thread> threads;
	char line[512];

	while (std::fgets(line, sizeof(line), stdin)) {
		char cmd[16] = "", chain[256] = "";
		long n = 1;

		if (std::sscanf(line, "%15s %255s %ld", cmd, chain, &n) < 1)
			continue;
		if (!std::strcmp(cmd, "quit"))
			break;
		if (!std::strcmp(cmd, "release")) {
			std::lock_guard<std::mutex> lk(mu);
			generation++;
			cv.notify_all();
			continue;
		}
		int mode = !std::strcmp(cmd, "throw") ? MODE_THROW
			   : !std::strcmp(cmd, "inner") ? MODE_INNER : MODE_PARK;
		for (long i = 0; i < n; i++)
			threads.emplace_back(run, std::string(chain), mode);
	}
	for (auto &t : threads)
		t.join();
	return 0;
}
