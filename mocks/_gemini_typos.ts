/**
 * The careful model's whole skill: a fixed dictionary of common misspellings, applied to whole words,
 * case-preserving, outside the spans a careful model leaves verbatim (code, URLs, paths, placeholders).
 *
 * @module
 */

/**
 * The fixed, documented misspelling → fix list the Gemini mock applies (lower-case keys).
 * A word is fixed when it is all lower case, Capitalised or ALL CAPS; mixed case (`TeH`) is left alone.
 */
export const TYPO_DICTIONARY: Readonly<Record<string, string>> = Object.freeze({
  teh: "the",
  hte: "the",
  adn: "and",
  taht: "that",
  waht: "what",
  whcih: "which",
  wich: "which",
  thier: "their",
  woudl: "would",
  shoudl: "should",
  coudl: "could",
  becuase: "because",
  beacuse: "because",
  untill: "until",
  recieve: "receive",
  recieved: "received",
  fucntion: "function",
  funtion: "function",
  fucntions: "functions",
  retrun: "return",
  reutrn: "return",
  pritn: "print",
  improt: "import",
  exmaple: "example",
  exapmle: "example",
  arguement: "argument",
  arguements: "arguments",
  paramter: "parameter",
  paramaters: "parameters",
  varaible: "variable",
  variabel: "variable",
  databse: "database",
  dependancy: "dependency",
  dependecy: "dependency",
  enviroment: "environment",
  lenght: "length",
  widht: "width",
  reponse: "response",
  respone: "response",
  reqeust: "request",
  ouput: "output",
  inital: "initial",
  intialize: "initialize",
  mesage: "message",
  messsage: "message",
  implemnt: "implement",
  implmentation: "implementation",
  definately: "definitely",
  seperate: "separate",
  occured: "occurred",
  occurence: "occurrence",
  adress: "address",
  compatable: "compatible",
  accross: "across",
  acheive: "achieve",
  begining: "beginning",
  beleive: "believe",
  calender: "calendar",
  commited: "committed",
  existant: "existent",
  grammer: "grammar",
  immediatly: "immediately",
  independant: "independent",
  knowlege: "knowledge",
  neccessary: "necessary",
  necesary: "necessary",
  noticable: "noticeable",
  posible: "possible",
  recomend: "recommend",
  refered: "referred",
  relevent: "relevant",
  succesful: "successful",
  successfull: "successful",
  tommorow: "tomorrow",
  truely: "truly",
  wierd: "weird",
  writting: "writing",
  dont: "don't",
  doesnt: "doesn't",
  didnt: "didn't",
  isnt: "isn't",
  wasnt: "wasn't",
  shouldnt: "shouldn't",
  couldnt: "couldn't",
  wouldnt: "wouldn't",
});

// Spans a careful model copies verbatim, most specific first. Unclosed fences run to the end of the text.
const PROTECTED_SOURCES = [
  String.raw`\x60\x60\x60[\s\S]*?(?:\x60\x60\x60|$)`, // fenced code
  String.raw`\x60[^\x60\n]+\x60`, // inline code
  String.raw`\{\{SECRET_\d+\}\}`, // ccpipe redaction placeholders
  String.raw`\b(?:https?|ftp|file|ssh|git):\/\/[^\s<>"'\x60]+`, // URLs
  String.raw`\bwww\.[^\s<>"'\x60]+`,
  String.raw`(?<![\w/])(?:~|\.{1,2})?\/[\w.@~+%-]+(?:\/[\w.@~+%-]*)*`, // absolute, ./ ../ ~/ paths
  String.raw`\b[A-Za-z]:\\[^\s]+`, // Windows paths
  String.raw`\b[\w.-]+(?:\/[\w.-]+)+`, // relative paths with a slash
  String
    .raw`\b[\w-]+(?:\.[\w-]+)*\.(?:ts|tsx|js|jsx|mjs|cjs|json|jsonl|md|py|rs|go|java|rb|sh|ya?ml|toml|txt|html|css|sql|c|h|cpp|lock|env)\b`,
];
const PROTECTED = new RegExp(PROTECTED_SOURCES.map((s) => `(?:${s})`).join("|"), "g");
const WORD = /\b[A-Za-z]+\b/g;

/**
 * Returns the spans of `text` a careful model leaves verbatim, in order of appearance.
 *
 * @param text Any prompt text.
 * @returns The code spans, URLs, paths and placeholders found.
 */
export function protectedSpans(text: string): string[] {
  return [...text.matchAll(PROTECTED)].map((m) => m[0]);
}

/**
 * Fixes the misspellings of {@linkcode TYPO_DICTIONARY} in `text`, whole words only, keeping case, and
 * leaving code spans, URLs, paths and `{{SECRET_n}}` placeholders untouched.
 *
 * @param text Any prompt text.
 * @returns The corrected text (the same string when there was nothing to fix).
 */
export function correctTypos(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(PROTECTED)) {
    out += fixWords(text.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return out + fixWords(text.slice(last));
}

function fixWords(segment: string): string {
  return segment.replace(WORD, (word) => {
    const fix = TYPO_DICTIONARY[word.toLowerCase()];
    if (fix === undefined) return word;
    if (word === word.toLowerCase()) return fix;
    if (word.length > 1 && word === word.toUpperCase()) return fix.toUpperCase();
    if (word === word[0].toUpperCase() + word.slice(1).toLowerCase()) {
      return fix[0].toUpperCase() + fix.slice(1);
    }
    return word; // mixed case: not a typo the dictionary knows
  });
}
