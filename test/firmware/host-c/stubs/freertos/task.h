/* Stand-in for FreeRTOS task.h (host test). */
#pragma once
#include "freertos/FreeRTOS.h"
void vTaskDelay(TickType_t ticks);
