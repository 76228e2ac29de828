// Ready states that open with one click, each with a short explanation of
// what to watch, in English and Simplified Chinese. A lesson is a set of
// changes to the page's default state; its link is the URL those changes
// write (with `v.lesson=<id>` so the page shows the explanation).
import type { HiddenLayer, TrainState } from './state.js';
import { defaultState } from './state.js';

/** One lesson. */
export interface Lesson {
  id: string;
  title: { en: string; zh: string };
  text: { en: string; zh: string };
  /** Changes to the default state. */
  state: Partial<TrainState>;
}

const deep = (n: number, units: number, act: string, init: HiddenLayer['init'] = 'default', gain = 1): HiddenLayer[] =>
  Array.from({ length: n }, () => ({ units, act, norm: 'none' as const, drop: 0, init, gain }));

const overfit: Partial<TrainState> = {
  data: 'spiral',
  classes: 2,
  points: 120,
  noise: 35,
  ratio: 50,
  layers: deep(3, 32, 'relu'),
  optimizer: 'adam',
  lr: 0.01,
  showTest: true,
};

export const LESSONS: readonly Lesson[] = [
  {
    id: 'vanishing',
    title: { en: 'Vanishing gradients: a deep sigmoid net', zh: '梯度消失:很深的 sigmoid 网络' },
    text: {
      en: 'Eight sigmoid layers. The sigmoid’s slope is at most 1/4, so every layer the error signal passes back through shrinks it again. Watch the per-layer gradient norms: the first layers get gradients orders of magnitude smaller than the last, and they barely learn. Compare with the ReLU + He lesson.',
      zh: '八层 sigmoid。sigmoid 的斜率最大只有 1/4,误差信号每向后穿过一层就再缩小一次。看各层的梯度范数:前面几层得到的梯度比最后几层小好几个数量级,几乎学不动。请与 “ReLU + He 初始化” 对比。',
    },
    state: {
      data: 'circle',
      layers: deep(8, 8, 'sigmoid', 'xavier_uniform'),
      optimizer: 'sgd',
      lr: 0.1,
    },
  },
  {
    id: 'vanishing_fix',
    title: { en: 'The fix: ReLU + He initialization', zh: '解决办法:ReLU + He 初始化' },
    text: {
      en: 'The same depth with ReLU, whose slope is 1 where it is active, and He (Kaiming) initialization, which scales the weights so that the signal keeps its variance from layer to layer. The gradient norms of all layers now stay within a small factor of each other and the network trains.',
      zh: '同样的深度,换成 ReLU(激活区斜率为 1)和 He(Kaiming)初始化(按方差逐层不变来缩放权重)。现在各层的梯度范数相差不大,网络可以正常训练。',
    },
    state: {
      data: 'circle',
      layers: deep(8, 8, 'relu', 'kaiming_normal'),
      optimizer: 'sgd',
      lr: 0.1,
    },
  },
  {
    id: 'exploding',
    title: { en: 'Exploding gradients: a large initialization', zh: '梯度爆炸:初始化过大' },
    text: {
      en: 'Six ReLU layers initialized with three times the Xavier scale. Each layer doubles the signal on the way forward and the error on the way back, so every layer’s gradient is about a hundred times that of the ReLU + He network, and the first updates throw the weights far away: the loss jumps, and may turn into NaN (the engine then refuses the update and stops). Next lesson: the same with clipping.',
      zh: '六层 ReLU,初始化取 Xavier 尺度的三倍。每一层都把前向的信号和反向的误差放大约一倍,所以各层的梯度都比 ReLU + He 网络的大约一百倍,最初几次更新就把权重甩得很远:损失猛跳,甚至变成 NaN(此时引擎拒绝这次更新并停止训练)。下一课:同样的网络加上梯度裁剪。',
    },
    state: {
      data: 'xor',
      layers: deep(6, 16, 'relu', 'xavier_normal', 3),
      optimizer: 'sgd',
      lr: 0.01,
    },
  },
  {
    id: 'exploding_fix',
    title: { en: 'The fix: gradient clipping', zh: '解决办法:梯度裁剪' },
    text: {
      en: 'The same network, with the total gradient norm clipped to 1 before each update. The per-layer norms are still large (they are measured before clipping), but no step can be longer than the learning rate times 1, so training stays finite and the loss comes down.',
      zh: '同样的网络,每次更新前把梯度的总范数裁剪到 1。各层范数仍然很大(它们是在裁剪前测量的),但每一步的长度不会超过学习率乘以 1,训练保持有限值,损失开始下降。',
    },
    state: {
      data: 'xor',
      layers: deep(6, 16, 'relu', 'xavier_normal', 3),
      optimizer: 'sgd',
      lr: 0.01,
      clip: 1,
    },
  },
  {
    id: 'overfit',
    title: { en: 'Overfitting: few noisy points, a big network', zh: '过拟合:数据少而噪,网络很大' },
    text: {
      en: 'Sixty noisy training points and three layers of 32 units. The training loss keeps falling while the test loss turns and rises: the network is learning the noise. The three lessons that follow each fix it a different way.',
      zh: '只有 60 个带噪声的训练点,网络却有三层、每层 32 个单元。训练损失一直下降,测试损失却掉头上升:网络在学习噪声。后面三课分别用不同的办法解决。',
    },
    state: overfit,
  },
  {
    id: 'overfit_dropout',
    title: { en: 'Fix 1: dropout', zh: '办法一:Dropout' },
    text: {
      en: 'Dropout zeroes each hidden unit with probability 0.3 at every training step (and scales the rest by 1/0.7), so no unit can rely on a particular other one. The decision boundary becomes smoother and the test loss stays closer to the training loss.',
      zh: 'Dropout 在每个训练步以 0.3 的概率把每个隐藏单元置零(其余乘以 1/0.7),任何单元都不能依赖某个特定的单元。决策边界更平滑,测试损失与训练损失更接近。',
    },
    state: { ...overfit, layers: deep(3, 32, 'relu').map((l) => ({ ...l, drop: 0.3 })) },
  },
  {
    id: 'overfit_l2',
    title: { en: 'Fix 2: L2 regularization', zh: '办法二:L2 正则化' },
    text: {
      en: 'An L2 penalty λ·Σw² (λ = 0.003) is added to the loss, so every step also pulls each weight towards zero. Large weights, which draw sharp boundaries around single noisy points, now cost more than they gain.',
      zh: '在损失上加 L2 惩罚 λ·Σw²(λ = 0.003),每一步都会把权重往零拉。围着单个噪声点画出尖锐边界需要很大的权重,现在得不偿失。',
    },
    state: { ...overfit, l2: 0.003 },
  },
  {
    id: 'overfit_early',
    title: { en: 'Fix 3: early stopping', zh: '办法三:提前停止' },
    text: {
      en: 'A fifth of the training points is held out for validation; training stops after 40 epochs without a better validation loss and the best epoch’s weights are restored. It does not change the network, only when to stop.',
      zh: '从训练点中留出五分之一做验证;如果连续 40 个 epoch 验证损失都没有改善,就停止训练并恢复最好那个 epoch 的权重。网络本身不变,只决定何时停下。',
    },
    state: { ...overfit, valSplit: 0.2, patience: 40 },
  },
  {
    id: 'lr_high',
    title: { en: 'Learning rate too high', zh: '学习率过高' },
    text: {
      en: 'Plain SGD with a learning rate of 3: each step overshoots the valley it aims for, so the loss jumps around (or grows) instead of settling. Lower the rate with the slider while it trains: it changes at the next step without a reset.',
      zh: '普通 SGD,学习率为 3:每一步都越过了它要去的谷底,损失来回跳动(甚至变大)而不是稳定下降。训练时用滑块降低学习率:下一步就生效,无需重置。',
    },
    state: { data: 'gauss', noise: 20, optimizer: 'sgd', lr: 3 },
  },
  {
    id: 'lr_low',
    title: { en: 'Learning rate too low', zh: '学习率过低' },
    text: {
      en: 'Plain SGD with a learning rate of 0.0003: every step goes the right way, but so little that after thousands of steps the boundary has hardly moved. The loss curve is smooth and nearly flat.',
      zh: '普通 SGD,学习率为 0.0003:每一步方向都对,但走得太少,几千步之后边界几乎没动。损失曲线平滑而近乎水平。',
    },
    state: { data: 'gauss', noise: 20, optimizer: 'sgd', lr: 0.0003 },
  },
  {
    id: 'warmup',
    title: { en: 'Warmup for Adam', zh: 'Adam 的预热' },
    text: {
      en: 'Adam divides each step by a running estimate of the gradient’s size, and that estimate rests on very few gradients at the start, so the first steps can be far too large. A linear warmup over 300 steps starts the learning rate near zero. Set the warmup to 0 to see the early spikes in the loss.',
      zh: 'Adam 用梯度大小的滑动估计去除每一步,而训练刚开始时这个估计只基于极少的梯度,最初几步可能过大。300 步的线性预热让学习率从接近零开始。把预热设为 0,就能看到损失在开头的尖峰。',
    },
    state: {
      data: 'spiral',
      classes: 3,
      layers: deep(4, 16, 'relu'),
      optimizer: 'adam',
      lr: 0.05,
      warmup: 300,
    },
  },
  {
    id: 'batch_noise',
    title: { en: 'Batch size vs noise', zh: '批大小与噪声' },
    text: {
      en: 'A batch of one point: each step follows a single example’s gradient, so the loss curve is very noisy, yet it makes many cheap steps. Move the batch size to 64 (it applies without a reset) and the curve smooths out: the average gradient of more points varies less from step to step.',
      zh: '批大小为 1:每一步只跟随一个样本的梯度,损失曲线噪声很大,但步子又多又便宜。把批大小调到 64(无需重置即可生效),曲线变得平滑:更多样本的平均梯度在各步之间波动更小。',
    },
    state: { data: 'circle', noise: 20, optimizer: 'sgd', lr: 0.03, batch: 1 },
  },
];

/**
 * A lesson's full state.
 * @param lesson - the lesson
 */
export function lessonState(lesson: Lesson): TrainState {
  const base = defaultState(lesson.state.data ?? 'spiral');
  return { ...base, ...lesson.state, lesson: lesson.id, hide: new Set() };
}
