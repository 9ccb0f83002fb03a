#!/usr/bin/env node
// The bundled CLI (scripts/build-bundles.mjs; `npm run build` makes it from dist/src/cli/main.js).
import "../dist/cli/bottle.js";
