/** The features layer's public surface: schema and batch contracts, config, item index conventions, vocabularies, normalizers, candidate features. */
export type * from "./schema.js";
export type * from "./batch.js";
export * from "./candidate-config.js";
export * from "./candidate-features.js";
export * from "./item-index.js";
export { Counter, Vocabulary, type VocabularyJSON, type VocabularyOptions } from "./vocabulary.js";
export { QuantileNormalizer, type QuantileNormalizerJSON } from "./quantile.js";
export { tagTokens, words } from "./tokenize.js";
