// Anomaly detection on a series: a robust z-score against the last N points. The median and
// the median absolute deviation (MAD) are barely moved by the outliers they are meant to find
// (a mean and standard deviation are), so a spike does not hide the next one.
#pragma once

#include <cstddef>
#include <deque>

namespace agentstream::processors {

struct AnomalyOptions {
    std::size_t window = 60;      ///< points of history judged against
    std::size_t min_points = 20;  ///< no verdict before this much history
    double threshold = 3.5;       ///< |z| above it is an anomaly (Iglewicz and Hoaglin)
};

struct AnomalyVerdict {
    bool judged = false;  ///< enough history to judge
    bool anomaly = false;
    double z = 0;  ///< 0.6745 (x - median) / MAD
    double median = 0;
    double mad = 0;
    std::size_t points = 0;  ///< history it was judged against
};

class RobustZScore {
  public:
    explicit RobustZScore(AnomalyOptions options = {}) : _options(options) {}
    /// Judges `x` against the history, then adds it to the history.
    AnomalyVerdict observe(double x);

  private:
    AnomalyOptions _options;
    std::deque<double> _history;
};

}  // namespace agentstream::processors
