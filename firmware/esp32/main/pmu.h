/* PMU power-up: switches on the power-management chip's radio rail (T-Beam AXP192 / AXP2101)
 * before the radio starts. Boards whose profile has no `pmu` section (no OC_HAS_PMU in
 * board_config.h) get a no-op. Written against ESP-IDF 5.x, never compiled here. */
#pragma once

#include <stdint.h>

typedef void (*pmu_log_fn)(uint8_t level, const char *fmt, ...);

/* 0: the radio rail is on (or the board has no PMU); -1: no PMU answered or a register
 * write failed (logged through `log` with levels 0 error, 1 warning, 2 info). */
int pmu_power_up(pmu_log_fn log);
