// Every filter operator with its edge cases: missing path, null, type mismatch, unicode.
#include <gtest/gtest.h>

#include "unit/router/router_test_support.h"

namespace agentstream::router {
namespace {

using testing::filter_router;
using testing::passes;

const std::string DOC = R"({"event_type":"task.created","n":5,"f":2.5,"s":"abc","b":true,)"
                        R"("z":null,"tags":["x","y",3],"metadata":{"priority":"high",)"
                        R"("deep":{"level":2}},"u":"caf\u00e9","t":"2026-11-27T10:00:00Z"})";

struct Case {
    std::string filter;
    bool expected;
};

class Operators : public ::testing::TestWithParam<Case> {};

TEST_P(Operators, MatchAsDocumented) {
    auto router = filter_router("      " + GetParam().filter + "\n");
    EXPECT_EQ(passes(*router, DOC), GetParam().expected) << GetParam().filter;
}

INSTANTIATE_TEST_SUITE_P(
    Router, Operators,
    ::testing::Values(
        // eq: same type and value; numbers numerically; a bare scalar means eq.
        Case{"n: 5", true}, Case{"n: 5.0", true}, Case{"n: {eq: 6}", false},
        Case{"n: '5'", false},  // a string is not the number 5 (type mismatch)
        Case{"s: abc", true}, Case{"s: {eq: ABC}", false}, Case{"b: true", true},
        Case{"b: {eq: false}", false}, Case{"z: {eq: null}", true}, Case{"s: {eq: null}", false},
        Case{"missing: {eq: 1}", false},
        // ne: present, same type, different value.
        Case{"n: {ne: 4}", true}, Case{"n: {ne: 5}", false}, Case{"missing: {ne: 1}", false},
        Case{"s: {ne: 5}", false},  // type mismatch is a non-match, not a pass
        // in / not_in
        Case{"s: {in: [x, abc]}", true}, Case{"s: {in: [x, y]}", false},
        Case{"n: {in: [1, 5]}", true}, Case{"n: {in: [a, b]}", false},
        Case{"s: {not_in: [x, y]}", true}, Case{"s: {not_in: [abc]}", false},
        Case{"missing: {not_in: [x]}", false}, Case{"n: {not_in: [a]}", false},
        Case{"metadata.priority: {$in: [high, critical]}", true},  // the original's spelling
        // ordering: numbers numerically, strings byte-wise
        Case{"n: {gt: 4}", true}, Case{"n: {gt: 5}", false}, Case{"n: {gte: 5}", true},
        Case{"n: {lt: 5}", false}, Case{"n: {lte: 5}", true}, Case{"f: {gt: 2.4, lt: 2.6}", true},
        Case{"f: {gt: 2.4, lt: 2.5}", false},  // both operators apply (the original took one)
        Case{"n: {gt: 3, lt: 4}", false},      // the original passed this one (5)
        Case{"s: {gt: abb}", true}, Case{"t: {gte: '2026-11-27T00:00:00Z'}", true},
        Case{"t: {lt: '2026-11-27T00:00:00Z'}", false}, Case{"s: {gt: 1}", false},
        Case{"n: {gt: a}", false}, Case{"b: {gt: 0}", false}, Case{"missing: {lt: 1}", false},
        // exists: present and not null
        Case{"n: {exists: true}", true}, Case{"missing: {exists: true}", false},
        Case{"missing: {exists: false}", true}, Case{"z: {exists: true}", false},
        Case{"z: {exists: false}", true}, Case{"metadata.deep.level: {exists: true}", true},
        Case{"s.inner: {exists: false}", true},  // through a string: absent
        // regex: search semantics (not anchored), strings only
        Case{"s: {regex: b}", true}, Case{"s: {regex: '^b'}", false},
        Case{"s: {regex: '^a.c$'}", true}, Case{"n: {regex: '5'}", false},
        Case{"u: {regex: 'caf.$'}", true},  // one character: é is matched as UTF-8
        // prefix / contains
        Case{"s: {prefix: ab}", true}, Case{"s: {prefix: bc}", false},
        Case{"n: {prefix: '5'}", false}, Case{"s: {contains: bc}", true},
        Case{"s: {contains: x}", false}, Case{"tags: {contains: y}", true},
        Case{"tags: {contains: 3}", true}, Case{"tags: {contains: z}", false},
        Case{"n: {contains: 5}", false},
        // unicode: escaped and literal spellings are the same string
        Case{"u: café", true}, Case{"u: {prefix: caf}", true},
        // dotted paths
        Case{"metadata.priority: high", true}, Case{"metadata.deep.level: {gte: 2}", true},
        Case{"metadata.nothing.level: 2", false}, Case{"n.x: 1", false},
        // combinators
        Case{"any: [{n: 1}, {s: abc}]", true}, Case{"any: [{n: 1}, {s: x}]", false},
        Case{"all: [{n: 5}, {s: abc}]", true}, Case{"all: [{n: 5}, {s: x}]", false},
        Case{"not: {s: abc}", false}, Case{"not: {s: x}", true},
        Case{"not: {missing: 1}", true},  // not negates the test: absent is not equal
        Case{"{n: 5, s: x}", false}));

TEST(Router, FilterCountsMissingPathsAndTypeMismatches) {
    auto router = filter_router("      n: {gt: a}\n      missing: 1\n");
    Routing out;
    router->route("in", "k", DOC, out);
    auto m = router->metrics().routes.at(0);
    EXPECT_EQ(m.type_mismatch, 1U);
    EXPECT_EQ(m.missing_path, 0U);  // `all` stops at the first failing test
    EXPECT_EQ(m.filtered_out, 1U);
    auto router2 = filter_router("      missing: 1\n");
    router2->route("in", "k", DOC, out);
    EXPECT_EQ(router2->metrics().routes.at(0).missing_path, 1U);
}

TEST(Router, MalformedInputNeverMatchesAFilterAndNeverThrows) {
    auto router = filter_router("      n: 5\n");
    for (const std::string& bad :
         std::vector<std::string>{"", "{", "[1,2]", "null", "{\"n\":}", "{\"n\":5", "\xff\xfe",
                                  "{\"n\":5}}}", std::string(1000, '{')}) {
        Routing out;
        EXPECT_NO_THROW(router->route("in", "k", bad, out));
    }
    EXPECT_FALSE(passes(*router, "{\"n\":"));
}

}  // namespace
}  // namespace agentstream::router
