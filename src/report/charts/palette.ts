// Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), without its yellow,
// which is too light for lines and text on white; in the order lines are given colours.

export const OKABE_ITO = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
