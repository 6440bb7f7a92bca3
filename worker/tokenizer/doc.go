// Package tokenizer turns text into token ids and back exactly as llama.cpp does, for the
// vocabularies stored in GGUF files.
//
// Two model families are supported, selected by the GGUF key tokenizer.ggml.model:
//
//   - "llama": SentencePiece-style tokenization. Spaces become "▁" (U+2581), a space is
//     prepended to every text fragment when add_space_prefix says so (the default), adjacent
//     symbols are merged greedily by token score, and symbols that never became a token fall
//     back to byte tokens (<0xXX>).
//   - "gpt2": byte-level BPE. The text is first split into words by a pre-tokenizer chosen by
//     tokenizer.ggml.pre, every byte of a word is mapped to a printable code point, and the
//     word is merged by the rank of tokenizer.ggml.merges.
//     Supported tokenizer.ggml.pre values: default (also when absent), gpt-2 and its aliases
//     (mpt, olmo, phi-2, ...), llama-bpe/llama3 (and dbrx, smaug-bpe, glm4/chatglm-bpe, ...),
//     qwen2 (and stablelm2, deepseek-r1-qwen, ...), qwen35, starcoder, smollm, command-r,
//     refact, falcon, deepseek-llm, deepseek-coder. Other names are an error, as in llama.cpp
//     for names it does not know.
//
// Special tokens (control, user-defined and unknown types) are cut out of the text before
// either model runs, longest token first; control and unknown tokens only when the caller asks
// for special-token parsing, user-defined tokens always (as llama.cpp does).
//
// Decoding mirrors llama.cpp's llama_token_to_piece and llama_detokenize: byte tokens become
// raw bytes, "▁" becomes a space, byte-level code points become their bytes, the first piece
// loses one leading space when the vocabulary adds a space prefix, and the clean-up passes of
// clean_up_tokenization_spaces run for vocabularies that enable it. StreamDecoder produces the
// same text incrementally and never splits a UTF-8 sequence.
//
// Every behaviour is llama.cpp's (the version inside node-llama-cpp 3.22.1), including its
// quirks: the hand-written pre-tokenizer splitters, invalid UTF-8 read as U+FFFD, bytes that a
// vocabulary cannot spell dropped, the end-of-generation set found by token text, and the
// Phi-3 rstrip rule keyed on general.name. Where llama.cpp aborts (a SentencePiece vocabulary
// without byte tokens) this package emits the unknown token instead; where llama.cpp's choice
// depends on hash-map order (which of several end-of-turn texts becomes EOT) it prefers the
// order of llama.cpp's own list.
//
// A Tokenizer is immutable after construction and safe for concurrent use.
package tokenizer
