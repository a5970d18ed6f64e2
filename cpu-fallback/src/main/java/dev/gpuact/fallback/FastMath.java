package dev.gpuact.fallback;

/**
 * Double-precision elementary functions fast enough for the kernel loops and accurate to about 1e-13 relative,
 * so that every float32 result rounded from them is within a fraction of an ULP of the exact one.
 *
 * <p>Why not {@link Math}: on JDK 17 {@code Math.tanh}, {@code Math.expm1} and {@code Math.log1p} are not
 * intrinsics (tens of ns each), and there is no erfc at all. {@code Math.log} is an intrinsic and is used.
 * Every function returns NaN for NaN and the proper limit at the infinities.
 */
public final class FastMath {
    private static final int TABLE_BITS = 6;
    private static final int TABLE_SIZE = 1 << TABLE_BITS;
    /** 2^(j/64), j = 0..63. */
    private static final double[] EXP2_TABLE = new double[TABLE_SIZE];
    private static final double TABLE_SIZE_OVER_LN2 = TABLE_SIZE / Math.log(2);
    /** ln 2 / 64 split (fdlibm's ln2_hi has 32 trailing zero bits) so that k * hi is exact for every k used. */
    private static final double LN2_OVER_TABLE_SIZE_HI = 6.93147180369123816490e-01 / TABLE_SIZE;
    private static final double LN2_OVER_TABLE_SIZE_LO = 1.90821492927058770002e-10 / TABLE_SIZE;
    /** Adding and subtracting 1.5 * 2^52 rounds a double of magnitude < 2^51 to the nearest integer, branch-free. */
    private static final double ROUNDING_SHIFT = 0x1.8p52;
    /** e^746 overflows and e^-746 underflows to 0. */
    private static final double EXP_ARGUMENT_LIMIT = 746;
    /** Inside this, e^x and its power of two are normal doubles. */
    private static final double NORMAL_RANGE = 708;

    private static final double INV_SQRT_2PI = 0.39894228040143267793994605993438;
    private static final double SQRT_HALF = 0.70710678118654752440084436210485;

    /** Intervals [k, k + 1) of the erfcx fits, k = 0..26; past 27, erfc underflows to 0 even in double. */
    private static final int ERFCX_INTERVALS = 27;
    private static final int ERFCX_TERMS = 14;
    /**
     * erfcx(k + 0.5 + s) = e^(z^2) erfc(z) for s in [-0.5, 0.5], one row of 14 coefficients (lowest degree first) per
     * interval k: Chebyshev fits made with mpmath at 40 digits, max relative error 2.5e-13. One table indexed by
     * the interval keeps the evaluation free of data-dependent branches.
     */
    private static final double[] ERFCX = {
        0.6156903441930494, -0.512688822902627, 0.35934593269324067, -0.22201057100539065, 0.12417032670840747, -0.06397016469460924, 0.03072833989503373, -0.013887392046671231, 0.005947018496083644, -0.0024256810924593647, 0.00094179697123398, -0.0003533202710617097, 0.00014219950820442345, -4.931559465321961e-05,
        0.3215854164543188, -0.16362291773256044, 0.0761510398549555, -0.03293090529941986, 0.013377340986436802, -0.005145957557114745, 0.0018861340776729421, -0.0006619298476974643, 0.00022331904926676125, -7.266141377816549e-05, 2.2811220018957896e-05, -6.9604589700351905e-06, 2.2194713475349843e-06, -6.378486387988727e-07,
        0.21080636406114361, -0.07434734678979468, 0.024937997086645233, -0.008001569382098908, 0.0024670368164479654, -0.0007335909373117802, 0.00021101980639242626, -5.886896055724396e-05, 1.596205712687532e-05, -4.214343130963489e-06, 1.0840311055681113e-06, -2.726770726930534e-07, 7.05750661898197e-08, -1.696411408635626e-08,
        0.1552936556088943, -0.041323577833252495, 0.01066113319251011, -0.002673074439643561, 0.0006526863269086787, -0.0001554689182328899, 3.6181703647369664e-05, -8.237986419511217e-06, 1.8371959965058951e-06, -4.017414059460916e-07, 8.617207083202206e-08, -1.816709921028992e-08, 3.904660027946148e-09, -7.952076959606247e-10,
        0.12248480427384142, -0.026015928630939815, 0.005413125434612216, -0.0011045761167898017, 0.0002212664545309336, -4.355082856393897e-05, 8.42924195260638e-06, -1.605497013589794e-06, 3.0112686390069487e-07, -5.565085307376166e-08, 1.0136576298634514e-08, -1.8217866412269658e-09, 3.3190334902930086e-10, -5.808233719088603e-11,
        0.10096221839949909, -0.017794764701022602, 0.003091012543874767, -0.0005294638064742455, 8.948080413337812e-05, -1.4927753496664966e-05, 2.459386629829127e-06, -4.0032200230795316e-07, 6.44039509060824e-08, -1.0244568802542363e-08, 1.6114908915442821e-09, -2.5084409463238163e-10, 3.9437560108312996e-11, -6.0121394426591715e-12,
        0.08580567010489461, -0.01290545573188275, 0.0019202078476567215, -0.0002827364814093732, 4.121035924791833e-05, -5.947658519217548e-06, 8.501929571761695e-07, -1.2040122690026602e-07, 1.689625120482078e-08, -2.350140870487896e-09, 3.2403410839586304e-10, -4.430563926090637e-11, 6.103932190107347e-12, -8.208624748769906e-13,
        0.07457369306287669, -0.009773771152362328, 0.0012704094201592168, -0.0001638003341121349, 2.0953457159105647e-05, -2.659762167546755e-06, 3.350803007600389e-07, -4.190283178679499e-08, 5.202266446608112e-09, -6.412978471759236e-10, 7.850149073181295e-11, -9.54467946235354e-12, 1.1673613781925999e-12, -1.4004173495846595e-13,
        0.06592512249998035, -0.007652084595846594, 0.0008824034352843002, -0.00010110359728669524, 1.1511429173695912e-05, -1.3025797241140112e-06, 1.4650050622844508e-07, -1.6378691728461164e-08, 1.8204067921907588e-09, -2.011634251227689e-10, 2.2102608291216744e-11, -2.4150609511954724e-12, 2.651300814893404e-13, -2.865182071693254e-14,
        0.05906467835256389, -0.006150278396798648, 0.000637033582976738, -6.563957234642445e-05, 6.728822842852982e-06, -6.863021357289329e-07, 6.965085113971771e-08, -7.034014249205618e-09, 7.069289772320767e-10, -7.070873439338619e-11, 7.038999630537785e-12, -6.974960007100132e-13, 6.938118600434424e-14, -6.812077632105504e-15,
        0.05349189974656412, -0.005049272417666123, 0.0004745393610698289, -4.4406084288612915e-05, 4.137738019696657e-06, -3.839340327193403e-07, 3.547689204712322e-08, -3.2647617761630457e-09, 2.9922335778904383e-10, -2.731480250730352e-11, 2.483536794100111e-12, -2.2493137773758402e-13, 2.0436897302932173e-14, -1.8366407112151803e-15,
        0.048876546895982274, -0.004218588487920215, 0.0003627792848997999, -3.1084474381677775e-05, 2.653914755252751e-06, -2.2578187850849477e-07, 1.914105080148296e-08, -1.6170840825819216e-09, 1.3614596527978697e-10, -1.1423446562346768e-11, 9.552522797126074e-13, -7.961489297094789e-14, 6.65330971254463e-15, -5.508542328782914e-16,
        0.04499209900102792, -0.003576692069814553, 0.0002834481283460112, -2.2393643659608713e-05, 1.7637913004511413e-06, -1.385009615877908e-07, 1.0843093534523291e-08, -8.463692587019087e-10, 6.586945089756511e-11, -5.111362577601141e-12, 3.954795686051464e-13, -3.051166663319729e-14, 2.3594120538828833e-15, -1.8099392074884507e-16,
        0.04167809676408815, -0.003070554465132545, 0.00022561148479879268, -1.6532946899229138e-05, 1.208350829599661e-06, -8.80842798534907e-08, 6.4043505258249095e-09, -4.6444221559188836e-10, 3.3595154068797393e-11, -2.4239197582362183e-12, 1.7444608661807422e-13, -1.2523350968758817e-14, 9.008226043141977e-16, -6.434850385465459e-17,
        0.03881774707464722, -0.0026645019307432118, 0.00018246907887064828, -1.2466858079207666e-05, 8.498183610685635e-07, -5.779673748540008e-08, 3.921889176746777e-09, -2.6552697784680916e-10, 1.7936999575809683e-11, -1.2089967193926641e-12, 8.130893727180252e-14, -5.4563315161174355e-15, 3.6678538446700675e-16, -2.4506356284641692e-17,
        0.03632404305948543, -0.0023338322514642874, 0.00014964316178897458, -9.575495823454111e-06, 6.114882627179319e-07, -3.897110053046749e-08, 2.478734831892497e-09, -1.5734589602571502e-10, 9.968360905320564e-12, -6.302894434631256e-13, 3.9774719511396096e-14, -2.5051513288817753e-15, 1.5802247943903793e-16, -9.914474335822966e-18,
        0.034130853321913276, -0.002061007472374518, 0.00012423002773372395, -7.474676512048755e-06, 4.4893264245974274e-07, -2.691516458520027e-08, 1.6108089346449702e-09, -9.62334752970127e-11, 5.739148073874365e-12, -3.4167384283771187e-13, 2.0305858259278828e-14, -1.2047123001384212e-15, 7.15695153455183e-17, -4.231539720726588e-18,
        0.03218702473823041, -0.0018333012574482908, 0.0001042527328853189, -5.918954636806694e-06, 3.355133706008824e-07, -1.8988260516500853e-08, 1.0729371873720155e-09, -6.053135356633958e-11, 3.409624995689652e-12, -1.917591639955474e-13, 1.0767893346149281e-14, -6.037207704233577e-16, 3.388917800712447e-17, -1.8942218105749396e-18,
        0.03045237479977461, -0.0016412995038520147, 8.833397851233878e-05, -4.747267582498154e-06, 2.547641180614607e-07, -1.3652559344452686e-08, 7.305900630284569e-10, -3.904090812065938e-11, 2.083315701466225e-12, -1.1101504189426693e-13, 5.907471194453752e-15, -3.1392002015588545e-16, 1.6699460770928575e-17, -8.849474143774768e-19,
        0.028894903811938218, -0.0014779184299220857, 7.549442845754732e-05, -3.851383333275194e-06, 1.9622672934052484e-07, -9.984844453983707e-09, 5.074208292807529e-10, -2.5753795144891064e-11, 1.3054559899527572e-12, -6.608963614965147e-14, 3.3416105036129603e-15, -1.6874595461770905e-16, 8.52965069972659e-18, -4.296560281229441e-19,
        0.02748881515193487, -0.0013377458661828167, 6.502489518712886e-05, -3.1570098977833964e-06, 1.5309614128461773e-07, -7.4156005794931935e-09, 3.5877646833570963e-10, -1.7337993888624587e-11, 8.368984052574117e-13, -4.0350353743489734e-14, 1.943227587778705e-15, -9.34770041595012e-17, 4.500563643196259e-18, -2.1600273718855216e-19,
        0.026213083193818983, -0.001216589761296326, 5.640332594797207e-05, -2.6121689432843094e-06, 1.2084683367971056e-07, -5.584807668212986e-09, 2.578229377104292e-10, -1.1889859268073997e-11, 5.477408619727157e-13, -2.5206831415829157e-14, 1.1587957626774888e-15, -5.3216171879314537e-17, 2.4458357162589985e-18, -1.12088631019931e-19,
        0.025050400098010076, -0.0011111626850591498, 4.923968417920633e-05, -2.1798606846714945e-06, 9.640938704885368e-08, -4.2597904289146715e-09, 1.88034132757846e-10, -8.292126246534206e-12, 3.6532305284108126e-13, -1.6079457924864235e-14, 7.070491172951243e-16, -3.1060881101692653e-17, 1.3655108379244271e-18, -5.987320493928507e-20,
        0.023986389566134008, -0.0010188574872141741, 4.323861660091544e-05, -1.8333313951075577e-06, 7.76644079439175e-08, -3.287123370198657e-09, 1.3900291474967606e-10, -5.872821023178091e-12, 2.479051763184467e-13, -1.0455418082102999e-14, 4.4056986293972217e-16, -1.8548447219125467e-17, 7.81432456039793e-19, -3.284157522698429e-20,
        0.023009011874778183, -0.0009375852313816467, 3.8173705927838485e-05, -1.5529574330692562e-06, 6.312440882085275e-08, -2.563766783345581e-09, 1.0404087629533132e-10, -4.2186611742519375e-12, 1.7091938157787613e-13, -6.919183674611595e-15, 2.7987608608327187e-16, -1.1311642080224105e-17, 4.574605306159383e-19, -1.8459170939567056e-20,
        0.022108108052519827, -0.0008656564170014193, 3.3869418983635286e-05, -1.3241552791463368e-06, 5.172968270184761e-08, -2.019348099689161e-09, 7.876871992466303e-11, -3.070211888630485e-12, 1.1957919116751393e-13, -4.65389208899473e-15, 1.8098845585427992e-16, -7.033324099417226e-18, 2.734753003436482e-19, -1.0611553389317005e-20,
        0.021275046685371106, -0.0008016927708439582, 3.0188258006211803e-05, -1.1359557862303505e-06, 4.271483555375554e-08, -1.605057622331511e-09, 6.026952065683275e-11, -2.2615214072615183e-12, 8.48008411125549e-14, -3.1775817992933087e-15, 1.189846162883889e-16, -4.452290800296989e-18, 1.6668856034053725e-19, -6.228685334604899e-21,
    };
    /** expm1(x) = x * sum x^n / (n + 1)! for |x| < 1/4: error below 1e-16 relative. */
    private static final double[] EXPM1_SERIES = new double[13];

    static {
        for (int j = 0; j < TABLE_SIZE; j++) {
            EXP2_TABLE[j] = StrictMath.pow(2, (double) j / TABLE_SIZE);
        }
        double factorial = 1;
        for (int n = 0; n < EXPM1_SERIES.length; n++) {
            factorial *= n + 1;
            EXPM1_SERIES[n] = 1 / factorial;
        }
    }

    private FastMath() {
    }

    /** Polynomial with coefficients lowest degree first, by Horner's rule. */
    private static double polynomial(double x, double[] c) {
        double sum = c[c.length - 1];
        for (int i = c.length - 2; i >= 0; i--) {
            sum = sum * x + c[i];
        }
        return sum;
    }

    /**
     * e^x: x = (64k + j) ln2/64 + r with |r| <= ln2/128, e^x = 2^k 2^(j/64) e^r, e^r by a degree-5 Taylor polynomial
     * (error ~4e-17). k and j come from the low mantissa bits of the shifted argument (no double-to-long
     * conversion); results that overflow or fall below the normal range take {@link #expExtreme}.
     */
    public static double exp(double x) {
        double shifted = x * TABLE_SIZE_OVER_LN2 + ROUNDING_SHIFT;
        double k = shifted - ROUNDING_SHIFT;
        double r = x - k * LN2_OVER_TABLE_SIZE_HI - k * LN2_OVER_TABLE_SIZE_LO;
        // Estrin's scheme: three dependent steps instead of Horner's five; measured faster here
        double r2 = r * r;
        double p = (1 + r) + r2 * ((0.5 + r * (1.0 / 6)) + r2 * (1.0 / 24 + r * (1.0 / 120)));
        long bits = Double.doubleToRawLongBits(shifted);
        double tableTimesPolynomial = EXP2_TABLE[(int) bits & (TABLE_SIZE - 1)] * p;
        if (Math.abs(x) > NORMAL_RANGE) {
            return expExtreme(x, tableTimesPolynomial, bits);
        }
        // (bits >> 6) is (high bits of the shift constant) + k: the << 52 pushes the former out of the long.
        return tableTimesPolynomial * Double.longBitsToDouble(((bits >> TABLE_BITS) + 1023) << 52);
    }

    /** |x| > 708 or NaN: the power of two is applied in two halves so overflow and subnormal results come out right. */
    private static double expExtreme(double x, double tableTimesPolynomial, long bits) {
        if (x != x) {
            return x;
        }
        if (Math.abs(x) > EXP_ARGUMENT_LIMIT) {
            return x > 0 ? Double.POSITIVE_INFINITY : 0;
        }
        long exponent = (long) ((Double.longBitsToDouble(bits) - ROUNDING_SHIFT)) >> TABLE_BITS;
        long half = exponent >> 1;
        double scaleA = Double.longBitsToDouble((half + 1023) << 52);
        double scaleB = Double.longBitsToDouble((exponent - half + 1023) << 52);
        return tableTimesPolynomial * scaleA * scaleB;
    }

    /** e^x - 1 without cancellation near 0. */
    public static double expm1(double x) {
        if (Math.abs(x) < 0.25) {
            return x * polynomial(x, EXPM1_SERIES);
        }
        return exp(x) - 1;
    }

    /** log(1 + v) for v >= -1 without cancellation near 0: log(u) * v / (u - 1) corrects the rounding of u = 1 + v. */
    public static double log1p(double v) {
        double u = 1 + v;
        if (u == 1 || u == Double.POSITIVE_INFINITY) {
            return u == 1 ? v : u;
        }
        return Math.log(u) * (v / (u - 1));
    }

    /** tanh x = -m / (2 + m) with m = expm1(-2|x|), carrying the sign of x: no cancellation anywhere. */
    public static double tanh(double x) {
        double m = expm1(-2 * Math.abs(x));
        return Math.copySign(-m / (2 + m), x);
    }

    /** 1 - tanh^2 x = 4e / (1 + e)^2 with e = exp(-2|x|): never cancels. */
    public static double sech2(double x) {
        double e = exp(-2 * Math.abs(x));
        return 4 * e / ((1 + e) * (1 + e));
    }

    /** 1 / (1 + e^-x); in double this keeps full relative accuracy on both sides. */
    public static double sigmoid(double x) {
        return 1 / (1 + exp(-x));
    }

    /** sigma(x) sigma(-x) = e / (1 + e)^2 with e = exp(-|x|). */
    public static double sigmoidDerivative(double x) {
        double e = exp(-Math.abs(x));
        return e / ((1 + e) * (1 + e));
    }

    /** erfc(z) for any z: {@link #erfcOfNonNegative} and, for negative z, 2 - erfc(-z). Relative error below 1e-12. */
    public static double erfc(double z) {
        double tail = erfcOfNonNegative(Math.abs(z));
        return z < 0 ? 2 - tail : tail;
    }

    /** erfc(z) for z >= 0 (or NaN) as e^(-z^2) erfcx(z), without a data-dependent branch. */
    public static double erfcOfNonNegative(double z) {
        double bounded = Math.min(z, ERFCX_INTERVALS);
        int interval = (int) Math.min(bounded, ERFCX_INTERVALS - 1);
        double s = bounded - interval - 0.5;
        int base = interval * ERFCX_TERMS;
        double sum = ERFCX[base + ERFCX_TERMS - 1];
        for (int i = ERFCX_TERMS - 2; i >= 0; i--) {
            sum = sum * s + ERFCX[base + i];
        }
        return exp(-z * z) * sum;
    }

    /** e^(-x^2/2) / sqrt(2 pi). */
    public static double normalPdf(double x) {
        return INV_SQRT_2PI * exp(-0.5 * x * x);
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2: no cancellation for negative x. */
    public static double normalCdf(double x) {
        return 0.5 * erfc(-x * SQRT_HALF);
    }
}
