// Artillery plugin for the cross-check: gives Artillery the template functions the seed plan
// calls but Artillery 2 does not have — {{ $randomUUID() }} and {{ $randomInt(a, b) }} (Artillery
// knows only $randomNumber and $randomString, and renders an unknown function as undefined: the
// order's productId and quantity vanish from the JSON and /api/products/{{ $randomUUID() }}
// becomes "Invalid URL"). Their meaning is mambogo-load's: a random version-4 UUID, a uniform
// integer in [a, b].
//
// Loaded with ARTILLERY_PLUGIN_PATH=<this folder's parent> and the override
// {"config": {"plugins": {"mambogo-seed-functions": {}}}}; the plan file stays as it is.
// Mechanism: a beforeScenario hook (the way Artillery's own metrics-by-endpoint plugin adds its
// hooks) that adds the two functions to each virtual user's context.funcs.
'use strict';

const crypto = require('crypto');

function addSeedFunctions(context, events, done) {
  context.funcs.$randomUUID = () => crypto.randomUUID();
  context.funcs.$randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));
  return done();
}

function MambogoSeedFunctions(script) {
  // Artillery 2 loads plugins in the launcher and in every worker; hooks only matter in workers.
  if (typeof process.env.LOCAL_WORKER_ID === 'undefined') return;
  script.config.processor = script.config.processor || {};
  script.config.processor.mambogoAddSeedFunctions = addSeedFunctions;
  for (const scenario of script.scenarios) {
    scenario.beforeScenario = [].concat(scenario.beforeScenario || []);
    scenario.beforeScenario.unshift('mambogoAddSeedFunctions');
  }
}

module.exports = { Plugin: MambogoSeedFunctions };
