#!/usr/bin/env node
// Committed so that npm links the bin on `npm ci` in a workspace, before the package is built.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
