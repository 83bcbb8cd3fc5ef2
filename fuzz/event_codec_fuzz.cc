// libFuzzer target: the event decoder and check() on any bytes. Besides "never crashes, never
// reads out of bounds", it holds them to what codec.h promises: check() gives the same verdict
// and the same violations as decode(), the same type and time for a valid event, and a decoded
// event encodes to JSON that decodes again to the same encoding.
#include <agentstream/event/codec.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {
[[noreturn]] void fail(const char* what, std::string_view input) {
    std::fprintf(stderr, "event_codec_fuzz: %s\ninput: %.*s\n", what,
                 static_cast<int>(input.size()), input.data());
    std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace event = agentstream::event;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto decoded = event::decode(input);
    auto checked = event::check(input);
    if (decoded.ok() != checked.ok()) {
        fail("decode() and check() disagree on validity", input);
    }
    if (!decoded.ok()) {
        if (decoded.error() != checked.error()) {
            fail("decode() and check() report different violations", input);
        }
        return 0;
    }
    if (decoded->type() != checked->type || decoded->timestamp() != checked->timestamp) {
        fail("check() reports another type or time than decode()", input);
    }
    auto once = event::encode(*decoded);
    auto again = event::decode(once);
    if (!again.ok()) {
        fail("an encoded event does not decode", once);
    }
    if (event::encode(*again) != once) {
        fail("encode(decode(encode(e))) differs from encode(e)", once);
    }
    return 0;
}
