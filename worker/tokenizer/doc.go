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
//     tokenizer.ggml.pre (gpt-2, llama-bpe/llama3, qwen2, starcoder/smollm, falcon,
//     deepseek-llm, deepseek-coder, default, and their aliases), every byte of a word is mapped
//     to a printable code point, and the word is merged by the rank of tokenizer.ggml.merges.
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
// A Tokenizer is immutable after construction and safe for concurrent use.
package tokenizer
