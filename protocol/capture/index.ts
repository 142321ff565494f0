export * from './zscap.js';
