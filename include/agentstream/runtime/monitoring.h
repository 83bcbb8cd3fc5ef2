// Processors seen by the monitor: their rows in its tables (from which it derives error rates,
// lag and latency series) and their health, on every tick of a started RealTimeMonitor.
#pragma once

#include <agentstream/monitor/monitor.h>
#include <agentstream/runtime/event_dispatcher.h>
#include <agentstream/runtime/processor.h>

#include <string>

namespace agentstream::runtime {

/// The processors-table row of a processor's counters.
monitor::ProcessorRow monitor_row(const std::string& name, const std::string& group,
                                  const ProcessorMetrics& metrics);
monitor::ProcessorRow monitor_row(const StreamProcessor& processor);

/// Has `monitor` observe `processor` on each tick: its row, and its health (down when its
/// clients get no answer from the brokers; warning or critical when it stops making progress
/// with events waiting, or dead-letters most of what it reads). `processor` must outlive the
/// monitor's ticks: stop the monitor first.
void watch(monitor::RealTimeMonitor& monitor, const StreamProcessor& processor);
/// The same for a dispatcher, with its routes' rows.
void watch(monitor::RealTimeMonitor& monitor, const EventDispatcher& dispatcher);

}  // namespace agentstream::runtime
