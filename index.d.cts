// The types of `require('requests-cache')` in a CommonJS program. The package is ES modules only,
// and Node >= 20.19 loads it with require() (require(esm)): a CommonJS program gets the very same
// module, so it gets the very same declarations. This file is a CommonJS declaration file, so that
// TypeScript with `module: node16` (or before 5.8) does not report TS1479 on the import site.
// @ts-ignore TS1479 under node16 here: the re-exported module is what require() loads at run time.
export * from './dist/index.js';
