/* The three scenarios; each renders one episode into ep (files + ground-truth lines)
 * and returns 0, or -1 with ep->err set. */
#ifndef SIMWORLD_SCENARIOS_H
#define SIMWORLD_SCENARIOS_H

#include "out.h"

int sw_run_grasp(sw_episode *ep);
int sw_run_push(sw_episode *ep);
int sw_run_demo(sw_episode *ep);

/* The episode's random stream for one purpose (scene layout, cameras, ...). */
void sw_episode_rng(const sw_episode *ep, uint64_t purpose, sw_rng *r);

#endif
