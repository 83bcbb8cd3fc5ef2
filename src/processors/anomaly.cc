#include <agentstream/processors/anomaly.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace agentstream::processors {
namespace {

double median_of(std::vector<double>& v) {
    auto mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
    double m = v[mid];
    if (v.size() % 2 == 0) {
        m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
    }
    return m;
}

}  // namespace

AnomalyVerdict RobustZScore::observe(double x) {
    AnomalyVerdict v;
    v.points = _history.size();
    if (_history.size() >= _options.min_points) {
        std::vector<double> values(_history.begin(), _history.end());
        v.median = median_of(values);
        for (auto& d : values) {
            d = std::abs(d - v.median);
        }
        v.mad = median_of(values);
        double deviation = x - v.median;
        v.judged = true;
        if (v.mad > 0) {
            v.z = 0.6745 * deviation / v.mad;
        } else {
            // More than half the history is one value: the mean absolute deviation scaled to
            // a standard deviation (1.2533), and failing that any clear departure is anomalous.
            double mean_ad = 0;
            for (double d : values) {
                mean_ad += d;
            }
            mean_ad /= static_cast<double>(values.size());
            if (mean_ad > 0) {
                v.z = deviation / (1.2533 * mean_ad);
            } else if (std::abs(deviation) > 1e-9 * std::max(1.0, std::abs(v.median))) {
                v.z = deviation > 0 ? 1e9 : -1e9;
            }
        }
        v.anomaly = std::abs(v.z) > _options.threshold;
    }
    _history.push_back(x);
    while (_history.size() > _options.window) {
        _history.pop_front();
    }
    return v;
}

}  // namespace agentstream::processors
