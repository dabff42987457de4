// Preloaded (`node --require`) by tools/api_contract.py when it runs openapi-to-postmanv2:
// the converter fakes values that have no example (patterned strings) with Math.random, so
// a fixed seed makes the generated collection the same on every run (mulberry32).
"use strict";
let state = 0x5eed5eed;
Math.random = function seededRandom() {
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
