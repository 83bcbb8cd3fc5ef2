// EventFactory (design §1): a document event and a task event, validated, encoded and read back.
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>

#include <fmt/core.h>

#include <cstdlib>

using agentstream::event::EventFactory;
using agentstream::event::EventType;

int main() {
    auto event =
        EventFactory::document(EventType::DocumentUploaded, "doc_001", "document_service",
                               {{"status", "pending"}, {"file_path", "/uploads/document.pdf"}});
    // The type says what happened (the design's action="created", status="pending").
    auto task_event =
        EventFactory::task(EventType::TaskCreated, "task_001", "document_analysis", "task_manager");

    for (const auto* e : {&event, &task_event}) {
        // The factory validates: an event it returns is one every consumer accepts.
        auto json = agentstream::event::encode(*e);
        auto back = agentstream::event::decode(json);
        if (!back.ok()) {
            fmt::print(stderr, "read back failed: {}\n",
                       agentstream::event::describe(back.error()));
            return EXIT_FAILURE;
        }
        fmt::print("{} ({} bytes): {}\n", agentstream::event::to_string(back.value().type()),
                   json.size(), json);
        if (!(back.value() == *e)) {
            fmt::print(stderr, "the event read back differs\n");
            return EXIT_FAILURE;
        }
    }

    // A required field left empty is refused with what is wrong.
    try {
        EventFactory::document(EventType::DocumentUploaded, "", "document_service");
        fmt::print(stderr, "an empty document_id was accepted\n");
        return EXIT_FAILURE;
    } catch (const agentstream::event::ValidationError& e) {
        fmt::print("refused: {}\n", e.what());
    }
    return EXIT_SUCCESS;
}
