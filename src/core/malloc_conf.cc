// jemalloc's options for every agentstream executable (compiled into each one; see
// cmake/Dependencies.cmake, and jemalloc's row in docs/architecture.md's library table).
//
// One arena instead of jemalloc's four per CPU: memory in agentstream changes threads all the
// time (librdkafka allocates fetched records on its broker threads and the processing thread
// frees them; the processing thread allocates what it produces and librdkafka frees it after
// delivery), and with an arena per thread pages freed into one arena are not reused by threads
// of another, so every new client starts on fresh pages. Thread caches still serve the small
// allocations without a lock. MALLOC_CONF in the environment is read after this and wins (for
// example MALLOC_CONF=narenas:8 on a machine with many cores and many workers per process).
extern "C" {
// The name and type are jemalloc's interface: it reads this symbol when it starts.
const char* malloc_conf = "narenas:1";
}
