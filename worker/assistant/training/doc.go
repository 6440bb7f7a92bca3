// Package training writes the training data of the bundled model (worker/assistant/model):
// conversations between customers or staff and the store assistant of synthetic stores, laid
// out exactly as the assistant prompts a model when it serves (Store.SystemPrompt, UserTurn,
// Conversation.Messages, the ChatML template of ChatTemplate), so training and serving cannot
// drift.
//
// Stores come from package synth with SplitTrain: no product family, brand or store name of the
// evaluation stores (SplitEval) ever appears. Each store is asked synth's questions (every
// intent, typos, chat speak, staff questions on staff and customer devices, multi-turn
// conversations) plus promotion questions on the promotions this package adds; stand-alone
// questions are chained into sessions of one to three, so the model reads earlier turns too.
// The assistant decides each answer (intent and facts) and composes its text; that text is the
// target the model learns to write from the facts in its prompt.
//
// The token files (see [WriteTokens]) are what the recipe's PyTorch script reads:
//
//	NAME.tokens  uint16 little-endian token IDs, the conversations one after another
//	NAME.mask    one byte per token: 1 where the token is a target (assistant words and <|im_end|>)
//	NAME.docs    uint32 little-endian start offsets of the conversations, then the total count
package training
